#version 330 core
// Dense ground truth: metric z-depth, camera-space normal, instance id, forward flow (pixels).
// With ALBEDO_MAP, texels with alpha < 0.5 are cut out (instance masks follow a cut-out's alpha).
#ifdef ALBEDO_MAP
uniform sampler2D u_albedo_map;
in vec2 v_uv;
#endif
uniform float u_instance;
uniform vec2 u_viewport;   // width, height in pixels
uniform bool u_double_sided;

in vec3 v_normal_cam;
in float v_depth;
in vec4 v_clip;
in vec4 v_clip_next;

layout(location = 0) out vec4 f_geometry;  // depth, normal xyz
layout(location = 1) out vec4 f_motion;    // flow x, flow y (pixels, y down), instance, 1

vec2 to_pixels(vec4 clip) {
    vec2 ndc = clip.xy / clip.w;
    return vec2((ndc.x + 1.0) * 0.5 * u_viewport.x, (1.0 - ndc.y) * 0.5 * u_viewport.y);
}

void main() {
#ifdef ALBEDO_MAP
    if (texture(u_albedo_map, v_uv).a < 0.5) discard;
#endif
    vec3 n = normalize(v_normal_cam);
    if (u_double_sided && n.z < 0.0) n = -n;  // flat shapes show the side facing the camera
    f_geometry = vec4(v_depth, n);
    f_motion = vec4(to_pixels(v_clip_next) - to_pixels(v_clip), u_instance, 1.0);
}
