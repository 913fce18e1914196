"""``depth_order``: two objects at different depths look the same size; which is closer?

Question: "Which object is closer to the camera: the blue cone or the red cube?" Options: the two
object descriptions in alphabetical order (a rule unrelated to the answer). Answer set
(balanced): ``first`` / ``second``, the position of the closer object among the options,
recorded as ``depth_order.closer``.

Parameters: ``object.*`` and ``second.*`` (colour, shape; ``x``/``y`` = where each
appears at mid-clip, as metres in the plane z = 0), ``object.size`` (the size both appear to
have, metres at z = 0), ``depth_order.near_distance_m`` (camera to the closer object),
``depth_order.depth_ratio`` (farther / closer distance), ``depth_order.camera_speed`` (m/s)
and ``depth_order.camera_direction`` (left | right). Each object keeps to its own half of the
view (``object`` above, ``second`` below).

No shortcut: each object is scaled by its distance so both project to the same size, they cast
no shadows on each other, and where they appear at mid-clip is drawn independently of which is
closer, so a single frame shows two equal-sized objects and says nothing. The cue is motion
parallax, visible only over time: the camera slides sideways at constant speed, and the closer
object sweeps across the image faster (by the depth ratio, 1.6-2x). Order-free summaries may
tell it (the longer streak in the mean or max image): the answer survives time reversal
(``order_free_ceiling = 1.0``).

Oracle: tracks each option's colour and answers the one whose centroid travelled further
between the first and the last third of the clip.
"""

from __future__ import annotations

from synth.sampling import ParamDraw
from synth.scene import Node
from synth.scenes.staging import camera, lane_midpoint, solid_object, two_objects, view_half_extent
from synth.scenes.task import ClipFormat, Sample
from synth.scenes.which_of_two import Lane, WhichOfTwo


class DepthOrder(WhichOfTwo, name="depth_order",
                 description="which of two objects is closer to the camera (projected sizes equalised)"):

    def build(self, draw: ParamDraw, answer: str, clip: ClipFormat) -> Sample:
        duration_s = clip.duration_s
        cam = camera(draw)
        distance = float(cam.position[2])
        half = view_half_extent(cam)
        looks = two_objects(draw)
        size = draw.uniform("object.size", 0.5, 0.7)
        near = draw.uniform("depth_order.near_distance_m", 0.55 * distance, 0.75 * distance)
        ratio = draw.uniform("depth_order.depth_ratio", 1.6, 2.0)
        # The closer object sweeps 60-90 % of the view half-extent over the clip.
        sweep_per_speed = duration_s * distance / near
        speed = draw.uniform("depth_order.camera_speed", 0.6 * half / sweep_per_speed, 0.9 * half / sweep_per_speed)
        heading = draw.choice("depth_order.camera_direction", ["left", "right"])
        velocity = speed if heading == "right" else -speed
        cam.velocity = (velocity, 0.0, 0.0)
        camera_mid_x = velocity * duration_s / 2

        def lane_object(lane: Lane) -> Node:
            # Room for the closer object's sweep in both lanes, so positions say nothing.
            mid_x, mid_y = lane_midpoint(draw, lane.prefix, lane.upper, (speed * sweep_per_speed / 2, 0.0), size, half)
            depth = near if lane.answered else near * ratio
            # Scaled by distance, the object projects exactly as one of `size` at z = 0 would.
            scale = depth / distance
            node = solid_object(lane.prefix, lane.shape, lane.color, size * scale, 0.0,
                                position=(camera_mid_x + mid_x * scale, mid_y * scale, distance - depth))  # fmt: skip
            node.cast_shadows = False  # a shadow on the farther object would give depth away
            return node

        return self.ask(draw, cam, looks, "depth_order.closer", answer, "Which object is closer to the camera", lane_object)
