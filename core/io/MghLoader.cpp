// MGH / MGZ reader (see MghLoader.h). zlib's gzread reads .mgz and, transparently,
// uncompressed .mgh.
#include "core/io/MghLoader.h"

#include "core/io/ImageLoader.h"
#include "core/io/VolumeLoader.h"
#include "models/Error.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

namespace ei {

namespace {

constexpr int kHeaderBytes = 284;

std::uint32_t be32(const unsigned char* p)
{
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}
std::int32_t bei32(const unsigned char* p) { return static_cast<std::int32_t>(be32(p)); }
std::int16_t bei16(const unsigned char* p) { return static_cast<std::int16_t>((p[0] << 8) | p[1]); }
float bef32(const unsigned char* p)
{
    const std::uint32_t u = be32(p);
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};

void readExactly(gzFile file, unsigned char* dst, std::size_t bytes, const std::string& path, const char* what)
{
    std::size_t done = 0;
    while (done < bytes) {
        const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes - done, 1u << 30));
        const int got = gzread(file, dst + done, chunk);
        if (got <= 0) {
            int err = 0;
            const char* msg = gzerror(file, &err);
            throw BadInputError(path, std::string(what) + " is truncated (" + std::to_string(done) + " of " +
                                          std::to_string(bytes) + " bytes" +
                                          (err != Z_OK && err != Z_STREAM_END && msg ? std::string(", ") + msg : "") + ")");
        }
        done += static_cast<std::size_t>(got);
    }
}

}  // namespace

Image loadMghVolume(const std::string& path)
{
    checkReadableFile(path);
    std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
    if (!file)
        throw BadInputError(path, "cannot be opened for reading");
    unsigned char h[kHeaderBytes];
    readExactly(file.get(), h, kHeaderBytes, path, "MGH header");
    const int version = bei32(h);
    if (version != 1)
        throw BadInputError(path, "not an MGH volume (version field " + std::to_string(version) + ", 1 expected)");
    const long long dims[3] = {bei32(h + 4), bei32(h + 8), bei32(h + 12)};
    const long long frames = bei32(h + 16);
    const int type = bei32(h + 20);
    checkImageSize(path, dims[2], dims[1], dims[0], 1);
    if (frames < 1 || frames > 100000)
        throw BadInputError(path, "absurd dimensions: " + std::to_string(frames) + " frames");
    int bytesPerVoxel = 0;
    switch (type) {
    case 0: bytesPerVoxel = 1; break;  // uchar
    case 1: bytesPerVoxel = 4; break;  // int32
    case 3: bytesPerVoxel = 4; break;  // float32
    case 4: bytesPerVoxel = 2; break;  // int16
    default: throw BadInputError(path, "unsupported MGH voxel type " + std::to_string(type));
    }

    Image image;
    image.sourcePath = path;
    image.format = "mgh";
    image.width = static_cast<int>(dims[0]);
    image.height = static_cast<int>(dims[1]);
    image.slices = static_cast<int>(dims[2]);
    image.channels = 1;
    image.photometric = "MONOCHROME2";
    image.bitsStored = bytesPerVoxel * 8;
    image.isSigned = type != 0;
    if (frames > 1)
        image.tags.other["volumes"] = std::to_string(frames);

    const std::size_t count = static_cast<std::size_t>(dims[0] * dims[1] * dims[2]);
    std::vector<unsigned char> raw(count * bytesPerVoxel);
    readExactly(file.get(), raw.data(), raw.size(), path, "MGH voxel data");
    // The frames after the first are not kept, but must be there: a cut file is bad input.
    std::vector<unsigned char> scratch(std::min<std::size_t>(raw.size(), 1u << 20));
    for (long long f = 1; f < frames; ++f)
        for (std::size_t done = 0; done < raw.size(); done += scratch.size())
            readExactly(file.get(), scratch.data(), std::min(scratch.size(), raw.size() - done), path, "MGH voxel data");
    image.pixels.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        const unsigned char* p = raw.data() + i * bytesPerVoxel;
        switch (type) {
        case 0: image.pixels[i] = p[0]; break;
        case 1: image.pixels[i] = static_cast<float>(bei32(p)); break;
        case 3: image.pixels[i] = bef32(p); break;
        case 4: image.pixels[i] = bei16(p); break;
        }
    }

    // Geometry. RAS in the file; Image uses LPS (negate R and A).
    double size[3] = {1, 1, 1};
    double mdc[3][3] = {{-1, 0, 0}, {0, 0, -1}, {0, 1, 0}};  // FreeSurfer's default: coronal
    double centre[3] = {0, 0, 0};
    if (bei16(h + 28) > 0) {
        for (int a = 0; a < 3; ++a) {
            size[a] = bef32(h + 30 + 4 * a);
            for (int k = 0; k < 3; ++k)
                mdc[a][k] = bef32(h + 42 + 12 * a + 4 * k);
            centre[a] = bef32(h + 78 + 4 * a);
        }
    }
    for (int a = 0; a < 3; ++a)
        if (!(size[a] > 0) || !std::isfinite(size[a]))
            size[a] = 1.0;
    double p0[3];
    for (int k = 0; k < 3; ++k) {
        p0[k] = centre[k];
        for (int a = 0; a < 3; ++a)
            p0[k] -= mdc[a][k] * size[a] * (static_cast<double>(dims[a]) / 2.0);
    }
    const double toLps[3] = {-1, -1, 1};
    for (int a = 0; a < 3; ++a) {
        image.spacing[a] = size[a];
        for (int k = 0; k < 3; ++k)
            image.direction[a * 3 + k] = mdc[a][k] * toLps[k];
        image.origin[a] = p0[a] * toLps[a];
    }
    image.hasGeometry = true;
    const auto [mn, mx] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    image.windowCenter = (static_cast<double>(*mn) + *mx) / 2.0;
    image.windowWidth = std::max(1e-6, static_cast<double>(*mx) - *mn);
    reorientToCanonical(image);
    return image;
}

}  // namespace ei
