#version 330 core
// Linear light -> output. Compiled per variant (Renderer._resolve): with SAMPLES n it averages the
// n samples of a multisample source; with BACKGROUND a sample no object covered (alpha 0) takes
// the background texture's pixel instead; with SRGB it sRGB-encodes (IEC 61966-2-1). u_weight
// scales the result (1 / shutter samples when accumulating).
#ifdef SAMPLES
uniform sampler2DMS u_source;
#else
uniform sampler2D u_source;
#endif
#ifdef BACKGROUND
uniform sampler2D u_background;
#endif
uniform float u_weight;
out vec4 f_color;

vec3 covered(vec4 s, vec3 background) {
#ifdef BACKGROUND
    return s.a > 0.0 ? s.rgb : background;
#else
    return s.rgb;
#endif
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 background = vec3(0.0);
#ifdef BACKGROUND
    background = texelFetch(u_background, p, 0).rgb;
#endif
#ifdef SAMPLES
    vec3 c = vec3(0.0);
    for (int i = 0; i < SAMPLES; i++) c += covered(texelFetch(u_source, p, i), background);
    c /= float(SAMPLES);
#else
    vec3 c = covered(texelFetch(u_source, p, 0), background);
#endif
    c = max(c, 0.0) * u_weight;
#ifdef SRGB
    c = min(c, 1.0);
    c = mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
#endif
    f_color = vec4(c, 1.0);
}
