# Independent PyTorch reference of the EI model (MODEL.md sections 1-4, 7, 9; VFM_WEIGHTS.md),
# written from the spec only, so that the C++ engine can be checked against it.
