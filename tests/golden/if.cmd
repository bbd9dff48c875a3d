$DATA/test_if/model.onnx
