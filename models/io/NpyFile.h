// NumPy .npy reader and writer (format versions 1.0-3.0, C order, little or big endian),
// our own small code (no extra dependency). Used for MRNet-style volumes, for
// `--input-tensor`, and for every array eiview-cli writes (tokens, maps, pixels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ei {

struct NpyArray {
    std::string dtype;               // numpy descr without byte order: "f4", "f8", "u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "b1"
    std::vector<std::int64_t> shape;
    std::vector<float> values;       // converted to float32, C order

    std::int64_t numel() const;
};

// Reads and converts to float. Throws ei::BadInputError naming the file for anything it
// cannot read (bad magic, Fortran order, object arrays, truncated data, absurd sizes).
NpyArray readNpy(const std::string& path);

// Writes float32 in C order, atomically.
void writeNpy(const std::string& path, const std::vector<std::int64_t>& shape, const float* data);
// Writes uint8 in C order, atomically (MRNet's volume format).
void writeNpyU8(const std::string& path, const std::vector<std::int64_t>& shape, const std::uint8_t* data);

}  // namespace ei
