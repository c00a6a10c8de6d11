// Raw samples of one type (any alignment, host byte order) to the float pixels every
// Image holds. Shared by the loaders that get a byte buffer back (ITK, GDCM).
#pragma once

#include <cstring>
#include <vector>

namespace ei {

template <typename T>
void samplesToFloat(const char* bytes, std::size_t count, std::vector<float>& out)
{
    out.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        T v;
        std::memcpy(&v, bytes + i * sizeof(T), sizeof(T));
        out[i] = static_cast<float>(v);
    }
}

}  // namespace ei
