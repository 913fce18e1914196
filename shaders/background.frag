#version 330 core
// The background at infinity, looked up by view direction so it turns with the camera.
uniform mat4 m_inv_view_proj;   // clip -> world at the sample time (rotation only)
uniform mat3 m_base_rotation;   // world -> base-camera rotation (camera at t = 0)
uniform vec2 u_base_tan;        // tan(half fov) horizontally and vertically of the base view
// KIND (compile-time, see Renderer._program): 0 solid, 1 gradient, 2 checker, 3 noise, 4 image
#ifndef KIND
#define KIND 0
#endif
uniform vec3 u_color;
uniform vec3 u_color2;
uniform float u_scale;
uniform sampler2D u_image;      // linear RGB, clamped at its edges

in vec2 v_ndc;
out vec4 f_color;

float hash2(vec2 p) { return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453); }

float value_noise2(vec2 x) {
    vec2 i = floor(x);
    vec2 f = fract(x);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash2(i), hash2(i + vec2(1, 0)), f.x), mix(hash2(i + vec2(0, 1)), hash2(i + vec2(1, 1)), f.x), f.y);
}

void main() {
    vec4 far = m_inv_view_proj * vec4(v_ndc, 1.0, 1.0);
    vec4 near = m_inv_view_proj * vec4(v_ndc, -1.0, 1.0);
    vec3 dir = normalize(far.xyz / far.w - near.xyz / near.w);
    vec3 b = m_base_rotation * dir;  // base camera frame: looking down -z
    // Angles rather than a plane projection: defined for every direction, even behind the base view.
    vec2 ang = vec2(atan(b.x, -b.z), atan(b.y, length(b.xz)));
    vec2 uv = 0.5 + 0.5 * ang / atan(u_base_tan);
    vec3 c = u_color;
#if KIND == 1
    c = mix(u_color, u_color2, clamp(uv.y, 0.0, 1.0));
#elif KIND == 2
    c = mix(u_color, u_color2, mod(floor(uv.x * u_scale) + floor(uv.y * u_scale), 2.0));
#elif KIND == 3
    c = mix(u_color, u_color2, value_noise2(uv * u_scale));
#elif KIND == 4
    c = texture(u_image, uv).rgb;  // uploaded bottom row first: t = 1 is the image's top
#endif
    f_color = vec4(c, 1.0);
}
