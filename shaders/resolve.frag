#version 330 core
// Linear light -> output: averages the MSAA samples (when compiled with MULTISAMPLE), scales by
// u_weight (1 / shutter samples when accumulating) and sRGB-encodes (IEC 61966-2-1) when compiled
// with SRGB.
#ifdef MULTISAMPLE
uniform sampler2DMS u_source;
uniform int u_samples;
#else
uniform sampler2D u_source;
#endif
uniform float u_weight;
out vec4 f_color;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
#ifdef MULTISAMPLE
    vec3 c = vec3(0.0);
    for (int i = 0; i < u_samples; i++) c += texelFetch(u_source, p, i).rgb;
    c /= float(u_samples);
#else
    vec3 c = texelFetch(u_source, p, 0).rgb;
#endif
    c = max(c, 0.0) * u_weight;
#ifdef SRGB
    c = min(c, 1.0);
    c = mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
#endif
    f_color = vec4(c, 1.0);
}
