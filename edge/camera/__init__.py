"""The kiosk's camera: frame sources, face detection, the emotion classifier, the monitor.

The classifier runs only at a press; ambient counting only detects faces; raw frames live
in RAM for at most `history_s + match_within_s` seconds (3 s by default). No pixels, crops
or embeddings are ever written, logged or sent.
The submodules import OpenCV, MediaPipe and ONNX Runtime (the `camera` extra); this package
itself imports nothing, so a kiosk without the extra still starts.
"""
