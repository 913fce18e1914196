#version 330 core
// Blinn-Phong in linear light with a PCF-filtered directional shadow map and point lights.
#define MAX_POINT 4
uniform vec3 u_color;
uniform vec3 u_texture_color;
uniform int u_texture;          // 0 none, 1 checker, 2 stripes, 3 noise
uniform float u_texture_scale;
uniform float u_specular;
uniform float u_shininess;
uniform bool u_double_sided;

uniform vec3 u_eye;
uniform vec3 u_ambient;         // linear radiance factor
uniform vec3 u_sun_dir;         // unit vector towards the directional light
uniform vec3 u_sun_color;       // colour * intensity (0 = none)
uniform bool u_sun_shadows;
uniform sampler2DShadow u_shadow_map;
uniform int u_point_count;
uniform vec3 u_point_pos[MAX_POINT];
uniform vec3 u_point_color[MAX_POINT];

in vec3 v_world;
in vec3 v_object;
in vec3 v_normal;
in vec4 v_light_clip;

out vec4 f_color;

float hash(vec3 p) {
    p = fract(p * 0.3183099 + 0.1);
    p *= 17.0;
    return fract(p.x * p.y * p.z * (p.x + p.y + p.z));
}

float value_noise(vec3 x) {
    vec3 i = floor(x);
    vec3 f = fract(x);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(mix(hash(i + vec3(0, 0, 0)), hash(i + vec3(1, 0, 0)), f.x),
                   mix(hash(i + vec3(0, 1, 0)), hash(i + vec3(1, 1, 0)), f.x), f.y),
               mix(mix(hash(i + vec3(0, 0, 1)), hash(i + vec3(1, 0, 1)), f.x),
                   mix(hash(i + vec3(0, 1, 1)), hash(i + vec3(1, 1, 1)), f.x), f.y), f.z);
}

vec3 albedo() {
    vec3 p = v_object * u_texture_scale;
    float k = 0.0;
    if (u_texture == 1) k = mod(floor(p.x + 1e-4) + floor(p.y + 1e-4) + floor(p.z + 1e-4), 2.0);
    else if (u_texture == 2) k = step(0.5, fract(p.x + p.y));
    else if (u_texture == 3) k = value_noise(p);
    return mix(u_color, u_texture_color, k);
}

float sun_visibility() {
    if (!u_sun_shadows) return 1.0;
    vec3 s = v_light_clip.xyz / v_light_clip.w * 0.5 + 0.5;
    if (any(lessThan(s, vec3(0.0))) || any(greaterThan(s, vec3(1.0)))) return 1.0;
    vec2 texel = 1.0 / vec2(textureSize(u_shadow_map, 0));
    float lit = 0.0;
    for (int dx = -1; dx <= 1; dx++)
        for (int dy = -1; dy <= 1; dy++)
            lit += texture(u_shadow_map, vec3(s.xy + vec2(dx, dy) * texel, s.z - 0.002));
    return lit / 9.0;
}

vec3 blinn_phong(vec3 n, vec3 l, vec3 v, vec3 radiance, vec3 kd) {
    float ndl = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float spec = ndl > 0.0 ? pow(max(dot(n, h), 0.0), u_shininess) * (u_shininess + 8.0) / 8.0 : 0.0;
    return radiance * (kd * ndl + u_specular * spec);
}

void main() {
    vec3 n = normalize(v_normal);
    vec3 v = normalize(u_eye - v_world);
    if (u_double_sided && dot(n, v) < 0.0) n = -n;
    vec3 kd = albedo();
    vec3 c = u_ambient * kd;
    c += sun_visibility() * blinn_phong(n, u_sun_dir, v, u_sun_color, kd);
    for (int i = 0; i < u_point_count; i++) {
        vec3 d = u_point_pos[i] - v_world;
        c += blinn_phong(n, normalize(d), v, u_point_color[i] / dot(d, d), kd);
    }
    f_color = vec4(c, 1.0);
}
