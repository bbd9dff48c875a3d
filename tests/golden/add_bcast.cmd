$DATA/test_add_bcast/model.onnx
