// Reader for PyTorch `torch.save` files (the zip format PyTorch writes since 1.6), our own
// code because LibTorch 1.13's pickle_load refuses the OrderedDict that
// `torch.save(model.state_dict())` produces (VFM_WEIGHTS.md section 7.3). It understands
// the stored (uncompressed) zip container and the small protocol-2 pickle subset that
// state dicts use; anything else is an ei::ModelError naming the file and the opcode or
// record, never a wild read.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace ei {

// Name -> tensor (CPU, contiguous, dtype as stored) of the state dict in `path`. A state
// dict wrapped as {"model": sd}, {"state_dict": sd} or {"module": sd} is unwrapped;
// entries whose values are not tensors are skipped.
std::map<std::string, torch::Tensor> readPthStateDict(const std::string& path);

// Same, from the file's bytes already in memory; `source` names them in messages.
std::map<std::string, torch::Tensor> parsePthStateDict(const std::string& bytes, const std::string& source);

// True when the bytes start like a zip archive (what torch.save writes).
bool looksLikeZip(const std::string& bytes);

}  // namespace ei
