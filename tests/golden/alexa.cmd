$ROOT/models/alexa_v0.1.onnx
