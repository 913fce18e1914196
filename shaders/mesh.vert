#version 330 core
// Shared vertex stage of the colour, shadow and ground-truth passes.
uniform mat4 m_model;      // object -> world at the sample time
uniform mat4 m_view_proj;  // world -> clip
uniform mat4 m_view;       // world -> camera
uniform mat4 m_model_next; // object -> world one frame later (ground-truth flow)
uniform mat4 m_view_proj_next;

in vec3 in_position;
in vec3 in_normal;
in vec2 in_uv;     // meshes from files only (synth.assets); unbound: (0, 0)
in vec4 in_color;  // linear RGBA vertex colour, likewise

out vec3 v_world;
out vec3 v_object;
out vec3 v_normal;
out vec3 v_normal_cam;
out float v_depth;
out vec4 v_clip;
out vec4 v_clip_next;
out vec2 v_uv;
out vec4 v_color;

void main() {
    vec4 world = m_model * vec4(in_position, 1.0);
    // The inverse-transpose keeps normals perpendicular under non-uniform scale.
    mat3 normal_matrix = transpose(inverse(mat3(m_model)));
    v_world = world.xyz;
    v_object = in_position;
    v_normal = normalize(normal_matrix * in_normal);
    v_normal_cam = mat3(m_view) * v_normal;
    v_depth = -(m_view * world).z;
    v_clip = m_view_proj * world;
    v_clip_next = m_view_proj_next * (m_model_next * vec4(in_position, 1.0));
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = v_clip;
}
