"""The AI runtime's engine side: loaded models (the store) and, later, ONNX/ncnn sessions."""
