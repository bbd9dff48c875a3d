$DATA/test_loop11/model.onnx
