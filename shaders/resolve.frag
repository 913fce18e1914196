#version 330 core
// Accumulated linear light -> output: sRGB-encoded 8-bit (IEC 61966-2-1) or linear float.
uniform sampler2D u_accum;
uniform bool u_srgb;
uniform float u_weight;    // 1 / shutter samples when accumulating, else 1
in vec2 v_ndc;
out vec4 f_color;
void main() {
    vec3 c = max(texelFetch(u_accum, ivec2(gl_FragCoord.xy), 0).rgb, 0.0) * u_weight;
    if (u_srgb) {
        c = min(c, 1.0);
        c = mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
    }
    f_color = vec4(c, 1.0);
}
