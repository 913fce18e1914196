#version 330 core
// Shadow-map and visibility passes: depth only.
void main() {}
