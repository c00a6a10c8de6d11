// safetensors reader and writer (https://github.com/huggingface/safetensors format):
// 8-byte little-endian header length N, N bytes of JSON header, then the byte buffer.
// Our own code because Debian ships no C++ safetensors library. The reader checks every
// offset, size and dtype against the file before it touches a byte of tensor data.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace ei {

struct SafetensorsFile {
    std::map<std::string, torch::Tensor> tensors;    // CPU, contiguous, dtype as stored
    std::map<std::string, std::string> metadata;     // the optional "__metadata__" map
};

// Reads a whole file. Any malformed content (truncated file, header that lies about
// offsets or sizes, overlapping or uncovered buffer ranges, unknown dtype, duplicate
// names) throws ei::ModelError naming the file and the problem.
SafetensorsFile readSafetensors(const std::string& path);

// Same, from bytes already in memory; `source` names them in error messages.
SafetensorsFile parseSafetensors(const std::string& bytes, const std::string& source);
// The file's bytes, unparsed, as readSafetensors reads them (ei::ModelError naming the file
// when it cannot be opened): for handing a file to parseSafetensors elsewhere (rank 0 sends
// a checkpoint to the other ranks).
std::string readSafetensorsBytes(const std::string& path);

// Reads only the "__metadata__" map (cheap: the tensors are not read).
std::map<std::string, std::string> readSafetensorsMetadata(const std::string& path);

// Writes tensors (any device; copied to CPU, made contiguous; dtype kept) and metadata,
// atomically (temporary file + rename). The header is padded to a multiple of 8 bytes,
// tensors are sorted by name.
void writeSafetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
std::string serializeSafetensors(const std::map<std::string, torch::Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});

// Integrity of the tensor data: SHA-256 over every tensor in name order (its name, dtype,
// shape and bytes), kept in the metadata under kTensorDigestKey by our writers.
// checkTensorDigest throws ei::ModelError naming the file when the key is present and
// the data does not match (flipped bits); false when the file has no digest (older files).
inline constexpr const char* kTensorDigestKey = "tensors_sha256";
std::string tensorDigest(const std::map<std::string, torch::Tensor>& tensors);
bool checkTensorDigest(const SafetensorsFile& file, const std::string& path);

// "F32" <-> torch::kFloat, ...; throws for dtypes LibTorch cannot hold.
std::string safetensorsDtypeName(torch::ScalarType type);

}  // namespace ei
