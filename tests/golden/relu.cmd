$DATA/test_relu/model.onnx
