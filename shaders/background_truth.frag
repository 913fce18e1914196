#version 330 core
// Ground truth where no object is: infinite depth, no normal, instance 0, and the flow of a
// direction at infinity (moves only with the camera's rotation).
uniform mat4 m_inv_view_proj;     // clip -> world at t (rotation-only view)
uniform mat4 m_view_proj_next;    // world -> clip at t + 1 frame (rotation-only view)
uniform vec2 u_viewport;
uniform float u_infinity;         // +inf, set from the host (GLSL has no literal for it)
in vec2 v_ndc;
layout(location = 0) out vec4 f_geometry;
layout(location = 1) out vec4 f_motion;
void main() {
    vec4 far = m_inv_view_proj * vec4(v_ndc, 1.0, 1.0);
    vec4 near = m_inv_view_proj * vec4(v_ndc, -1.0, 1.0);
    vec4 next = m_view_proj_next * vec4(normalize(far.xyz / far.w - near.xyz / near.w), 0.0);
    // An orthographic camera sees every direction at infinity in one spot: no flow there.
    vec2 flow = vec2(0.0);
    if (abs(next.w) > 1e-9) {
        vec2 ndc_next = next.xy / next.w;
        flow = vec2(ndc_next.x - v_ndc.x, v_ndc.y - ndc_next.y) * 0.5 * u_viewport;
    }
    f_geometry = vec4(u_infinity, 0.0, 0.0, 0.0);
    f_motion = vec4(flow, 0.0, 1.0);
}
