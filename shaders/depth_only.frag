#version 330 core
// Shadow-map and visibility passes: depth only. With ALBEDO_MAP (a material with an image),
// texels with alpha < 0.5 are cut out, so cut-outs cast shadows and occlude by their alpha.
#ifdef ALBEDO_MAP
uniform sampler2D u_albedo_map;
in vec2 v_uv;
#endif

void main() {
#ifdef ALBEDO_MAP
    if (texture(u_albedo_map, v_uv).a < 0.5) discard;
#endif
}
