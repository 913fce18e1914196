#version 330 core
// Blinn-Phong in linear light: ambient, a directional and up to four point lights, each with a
// PCF-filtered shadow map.
// Compiled per variant (Renderer._program): TEXTURE (0 none, 1 checker, 2 stripes, 3 noise),
// POINT_COUNT (0..4), SUN_SHADOW and POINT_SHADOW_<i> when that light has a shadow map. A
// software rasteriser runs both sides of a branch under a mask, so code a frame does not need
// is compiled out rather than skipped by a uniform.
#define MAX_POINT 4
#ifndef TEXTURE
#define TEXTURE 0
#endif
#ifndef POINT_COUNT
#define POINT_COUNT 0
#endif
uniform vec3 u_color;
uniform vec3 u_texture_color;
uniform float u_texture_scale;
uniform float u_specular;
uniform float u_shininess;
uniform bool u_double_sided;

uniform vec3 u_eye;
uniform vec3 u_ambient;         // linear radiance factor
uniform vec3 u_sun_dir;         // unit vector towards the directional light
uniform vec3 u_sun_color;       // colour * intensity (0 = none)
uniform vec3 u_point_pos[MAX_POINT];
uniform vec3 u_point_color[MAX_POINT];
// Shadow maps. The directional light's is orthographic; a point light's is a cube map laid out
// as a 3 x 2 atlas of 90-degree faces (+x -x +y / -y +z -z), one world -> clip matrix per face.
uniform sampler2DShadow u_sun_map;
uniform mat4 m_sun_vp;
uniform sampler2DShadow u_point_maps[MAX_POINT];
uniform mat4 m_point_face_vp[6 * MAX_POINT];

in vec3 v_world;
in vec3 v_object;
in vec3 v_normal;
// Meshes from files: VERTEX_COLOR multiplies the albedo by the vertex colour; ALBEDO_MAP by the
// material's image at the mesh's UVs, cutting out texels with alpha < 0.5.
#ifdef VERTEX_COLOR
in vec4 v_color;
#endif
#ifdef ALBEDO_MAP
uniform sampler2D u_albedo_map;
in vec2 v_uv;
#endif

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
#if TEXTURE == 1
    k = mod(floor(p.x + 1e-4) + floor(p.y + 1e-4) + floor(p.z + 1e-4), 2.0);
#elif TEXTURE == 2
    k = step(0.5, fract(p.x + p.y));
#elif TEXTURE == 3
    k = value_noise(p);
#endif
    return mix(u_color, u_texture_color, k);
}

// Fraction of a 3x3 PCF footprint around uv that the light reaches, kept inside [lo, hi].
float pcf(sampler2DShadow map, vec2 uv, float depth, float bias, vec2 lo, vec2 hi) {
    vec2 texel = 1.0 / vec2(textureSize(map, 0));
    float lit = 0.0;
    for (int dx = -1; dx <= 1; dx++)
        for (int dy = -1; dy <= 1; dy++)
            lit += texture(map, vec3(clamp(uv + vec2(dx, dy) * texel, lo, hi), depth - bias));
    return lit / 9.0;
}

float sun_visibility() {
#ifndef SUN_SHADOW
    return 1.0;
#else
    vec4 clip = m_sun_vp * vec4(v_world, 1.0);
    vec3 s = clip.xyz / clip.w * 0.5 + 0.5;
    if (any(lessThan(s, vec3(0.0))) || any(greaterThan(s, vec3(1.0)))) return 1.0;
    return pcf(u_sun_map, s.xy, s.z, 0.002, vec2(0.0), vec2(1.0));
#endif
}

// Sampler arrays take constant indices in GLSL 3.30, hence the atlas is passed in.
float point_visibility(sampler2DShadow atlas, int light) {
    vec3 d = v_world - u_point_pos[light];
    vec3 a = abs(d);
    int face = (a.x >= a.y && a.x >= a.z) ? (d.x > 0.0 ? 0 : 1) : ((a.y >= a.z) ? (d.y > 0.0 ? 2 : 3) : (d.z > 0.0 ? 4 : 5));
    vec4 clip = m_point_face_vp[6 * light + face] * vec4(v_world, 1.0);
    vec3 s = clip.xyz / clip.w * 0.5 + 0.5;
    if (s.z > 1.0) return 1.0;  // beyond every caster
    vec2 cells = vec2(3.0, 2.0);
    vec2 cell = vec2(face % 3, face / 3);
    vec2 half_texel = 0.5 / vec2(textureSize(atlas, 0));
    // Perspective depth is finer near the light: a smaller bias than the sun's.
    return pcf(atlas, (cell + clamp(s.xy, 0.0, 1.0)) / cells, s.z, 0.0005,
               cell / cells + half_texel, (cell + 1.0) / cells - half_texel);
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
#ifdef VERTEX_COLOR
    kd *= v_color.rgb;
#endif
#ifdef ALBEDO_MAP
    vec4 texel = texture(u_albedo_map, v_uv);
    if (texel.a < 0.5) discard;
    kd *= texel.rgb;
#endif
    vec3 c = u_ambient * kd;
    c += sun_visibility() * blinn_phong(n, u_sun_dir, v, u_sun_color, kd);
    float point_vis[MAX_POINT] = float[MAX_POINT](1.0, 1.0, 1.0, 1.0);
#ifdef POINT_SHADOW_0
    point_vis[0] = point_visibility(u_point_maps[0], 0);
#endif
#ifdef POINT_SHADOW_1
    point_vis[1] = point_visibility(u_point_maps[1], 1);
#endif
#ifdef POINT_SHADOW_2
    point_vis[2] = point_visibility(u_point_maps[2], 2);
#endif
#ifdef POINT_SHADOW_3
    point_vis[3] = point_visibility(u_point_maps[3], 3);
#endif
    for (int i = 0; i < POINT_COUNT; i++) {
        vec3 d = u_point_pos[i] - v_world;
        c += point_vis[i] * blinn_phong(n, normalize(d), v, u_point_color[i] / dot(d, d), kd);
    }
    f_color = vec4(c, 1.0);
}
