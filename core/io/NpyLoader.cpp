// .npy volumes through models/io/NpyFile (see NpyLoader.h).
#include "core/io/NpyLoader.h"

#include "core/io/ImageLoader.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"

#include <algorithm>

namespace ei {

Image loadNpyVolume(const std::string& path)
{
    checkReadableFile(path);
    NpyArray array = readNpy(path);
    const auto& s = array.shape;
    Image image;
    image.sourcePath = path;
    image.format = "npy";
    if (s.size() == 2) {
        image.slices = 1, image.height = static_cast<int>(s[0]), image.width = static_cast<int>(s[1]), image.channels = 1;
    } else if (s.size() == 3 && s[2] == 3 && s[0] > 16) {
        // [H,W,3]: a colour picture saved by NumPy (a volume of 3-pixel-wide slices is absurd).
        image.slices = 1, image.height = static_cast<int>(s[0]), image.width = static_cast<int>(s[1]), image.channels = 3;
    } else if (s.size() == 3) {
        image.slices = static_cast<int>(s[0]), image.height = static_cast<int>(s[1]), image.width = static_cast<int>(s[2]);
        image.channels = 1;
    } else if (s.size() == 4 && s[3] == 3) {
        image.slices = static_cast<int>(s[0]), image.height = static_cast<int>(s[1]), image.width = static_cast<int>(s[2]);
        image.channels = 3;
    } else {
        std::string shape;
        for (auto d : s)
            shape += (shape.empty() ? "" : ",") + std::to_string(d);
        throw BadInputError(path, "array of shape [" + shape + "] is not an image or volume ([S,H,W], [H,W] or [S,H,W,3] expected)");
    }
    for (auto d : s)
        if (d < 1)
            throw BadInputError(path, "array has an empty dimension");
    checkImageSize(path, image.slices, image.height, image.width, image.channels);
    image.pixels = std::move(array.values);
    image.photometric = image.channels == 3 ? "RGB" : "MONOCHROME2";
    const std::string& dt = array.dtype;
    image.isSigned = dt[0] == 'i' || dt[0] == 'f';
    image.bitsStored = dt == "b1" ? 1 : 8 * std::stoi(dt.substr(1));
    if (image.pixels.empty())
        throw BadInputError(path, "array holds no values");
    const auto [mn, mx] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    if (dt == "u1") {
        image.windowCenter = 127.5, image.windowWidth = 255.0;
    } else {
        image.windowCenter = (static_cast<double>(*mn) + *mx) / 2.0;
        image.windowWidth = std::max(1.0, static_cast<double>(*mx) - *mn);
    }
    return image;
}

}  // namespace ei
