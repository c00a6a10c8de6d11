// SHA-256 (FIPS 180-4), our own small code so that models/ needs no OpenSSL: model
// fingerprints and the backbone_sha256 check of referenced backbone files.
#pragma once

#include <cstdint>
#include <string>

namespace ei {

class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t size);
    void update(const std::string& bytes) { update(bytes.data(), bytes.size()); }
    std::string hexDigest();  // finishes the hash; 64 lower-case hex digits

    static std::string ofBytes(const std::string& bytes);
    // Throws ei::BadInputError naming the file when it cannot be read.
    static std::string ofFile(const std::string& path);

private:
    void block(const unsigned char* p);
    std::uint32_t h_[8];
    unsigned char buffer_[64];
    std::size_t bufferLen_ = 0;
    std::uint64_t totalLen_ = 0;
};

}  // namespace ei
