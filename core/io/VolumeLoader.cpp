// ITK volume loading and canonical orientation (see VolumeLoader.h). The ImageIO
// classes are used directly (no factory): the format is already known from content /
// extension, and unknown files must fail with our message, not ITK's.
#include "core/io/VolumeLoader.h"

#include "core/io/HeaderChecks.h"
#include "core/io/SampleCopy.h"

#include "core/io/ImageLoader.h"
#include "models/Error.h"

#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ei {

namespace {

// NIfTI-2 header: sizeof_hdr 540 and magic "n+2" / "ni2" at byte 4 (gzip'ed or not).
bool isNifti2(const std::string& path)
{
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr)
        return false;
    char head[8] = {};
    const int got = gzread(file, head, sizeof head);
    gzclose(file);
    return got == 8 && (std::memcmp(head + 4, "n+2", 3) == 0 || std::memcmp(head + 4, "ni2", 3) == 0);
}

void fillSlicePositions(Image& image)
{
    const double* n = image.direction.data() + 6;
    const double o = image.origin[0] * n[0] + image.origin[1] * n[1] + image.origin[2] * n[2];
    image.slicePositions.resize(static_cast<std::size_t>(image.slices));
    for (int s = 0; s < image.slices; ++s)
        image.slicePositions[static_cast<std::size_t>(s)] = o + s * image.spacing[2];
}

}  // namespace

Image loadItkVolume(const std::string& path, const std::string& format)
{
    checkReadableFile(path);
    itk::ImageIOBase::Pointer io;
    if (format == "nifti")
        io = itk::NiftiImageIO::New();
    else if (format == "nrrd")
        io = itk::NrrdImageIO::New();
    else if (format == "metaimage")
        io = itk::MetaImageIO::New();
    else
        throw BadInputError(path, "unsupported volume format '" + format + "'");

    // Before ITK sees the file: some malformed headers hang or crash its readers.
    if (format == "metaimage")
        checkMetaImageHeader(path);
    else if (format == "nifti")
        checkNiftiHeader(path);
    else
        checkNrrdHeader(path);

    Image image;
    image.sourcePath = path;
    image.format = format;
    try {
        if (!io->CanReadFile(path.c_str())) {
            if (format == "nifti" && isNifti2(path))
                throw BadInputError(path, "NIfTI-2 is not supported: ITK 5.2 reads NIfTI-1 only; convert the file "
                                          "to NIfTI-1 (e.g. nibabel or c3d)");
            throw BadInputError(path, "not a readable " + format + " file");
        }
        io->SetFileName(path);
        io->ReadImageInformation();
        const unsigned nd = io->GetNumberOfDimensions();
        if (nd < 2)
            throw BadInputError(path, "has " + std::to_string(nd) + " dimension(s); 2 to 4 expected");
        if (nd > 4)
            throw BadInputError(path, "has " + std::to_string(nd) + " dimensions; 2 to 4 expected");
        if (io->GetPixelType() == itk::IOPixelEnum::COMPLEX)
            throw BadInputError(path, "holds complex voxels; only real-valued images are supported");
        const unsigned comps = io->GetNumberOfComponents();
        if (comps != 1 && comps != 3 && comps != 4)
            throw BadInputError(path, "holds " + std::to_string(comps) +
                                          " components per voxel (vector data); 1 (grey) or 3 / 4 (colour) expected");
        long long dims[4] = {1, 1, 1, 1};
        for (unsigned i = 0; i < nd; ++i)
            dims[i] = static_cast<long long>(io->GetDimensions(i));
        checkImageSize(path, dims[2], dims[1], dims[0], comps);
        if (dims[3] < 1 || static_cast<double>(dims[3]) * dims[2] * dims[1] * dims[0] * comps > static_cast<double>(1LL << 31))
            throw BadInputError(path, "absurd dimensions: " + std::to_string(dims[3]) + " volumes");
        if (nd == 4 && dims[3] > 1)
            image.tags.other["volumes"] = std::to_string(dims[3]);

        const std::size_t componentSize = io->GetComponentSize();
        const std::size_t totalComponents = static_cast<std::size_t>(dims[0] * dims[1] * dims[2] * dims[3]) * comps;
        std::vector<char> buffer(totalComponents * componentSize);
        itk::ImageIORegion region(nd);
        for (unsigned i = 0; i < nd; ++i) {
            region.SetIndex(i, 0);
            region.SetSize(i, static_cast<itk::SizeValueType>(dims[i]));
        }
        io->SetIORegion(region);
        io->Read(buffer.data());

        // The first volume only (4-D data: the rest is dropped, see the header).
        const std::size_t count = static_cast<std::size_t>(dims[0] * dims[1] * dims[2]) * comps;
        std::vector<float> values;
        using C = itk::IOComponentEnum;
        switch (io->GetComponentType()) {
        case C::UCHAR: samplesToFloat<std::uint8_t>(buffer.data(), count, values); image.bitsStored = 8; break;
        case C::CHAR: samplesToFloat<std::int8_t>(buffer.data(), count, values); image.bitsStored = 8; image.isSigned = true; break;
        case C::USHORT: samplesToFloat<std::uint16_t>(buffer.data(), count, values); image.bitsStored = 16; break;
        case C::SHORT: samplesToFloat<std::int16_t>(buffer.data(), count, values); image.bitsStored = 16; image.isSigned = true; break;
        case C::UINT: samplesToFloat<std::uint32_t>(buffer.data(), count, values); image.bitsStored = 32; break;
        case C::INT: samplesToFloat<std::int32_t>(buffer.data(), count, values); image.bitsStored = 32; image.isSigned = true; break;
        case C::ULONG:
        case C::ULONGLONG: samplesToFloat<std::uint64_t>(buffer.data(), count, values); image.bitsStored = 64; break;
        case C::LONG:
        case C::LONGLONG: samplesToFloat<std::int64_t>(buffer.data(), count, values); image.bitsStored = 64; image.isSigned = true; break;
        case C::FLOAT: samplesToFloat<float>(buffer.data(), count, values); image.bitsStored = 32; image.isSigned = true; break;
        case C::DOUBLE: samplesToFloat<double>(buffer.data(), count, values); image.bitsStored = 64; image.isSigned = true; break;
        default: throw BadInputError(path, "unsupported voxel component type");
        }
        buffer.clear();
        buffer.shrink_to_fit();

        image.slices = static_cast<int>(dims[2]);
        image.height = static_cast<int>(dims[1]);
        image.width = static_cast<int>(dims[0]);
        if (comps == 1) {
            image.channels = 1;
            image.pixels = std::move(values);
            image.photometric = "MONOCHROME2";
        } else {
            image.channels = 3;
            image.photometric = "RGB";
            const std::size_t n = static_cast<std::size_t>(dims[0] * dims[1] * dims[2]);
            image.pixels.resize(n * 3);
            for (std::size_t i = 0; i < n; ++i)
                for (int c = 0; c < 3; ++c)
                    image.pixels[i * 3 + c] = values[i * comps + c];
        }
        // Geometry: ITK reports LPS for every format (NIfTI's RAS is converted by ITK).
        const unsigned gd = std::min(nd, 3u);
        image.direction = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        for (unsigned axis = 0; axis < gd; ++axis) {
            image.spacing[axis] = io->GetSpacing(axis) > 0 ? io->GetSpacing(axis) : 1.0;
            image.origin[axis] = io->GetOrigin(axis);
            const auto dir = io->GetDirection(axis);  // direction of voxel axis `axis`
            for (unsigned k = 0; k < gd && k < dir.size(); ++k)
                image.direction[axis * 3 + k] = dir[k];
        }
        image.hasGeometry = true;
    } catch (const itk::ExceptionObject& e) {
        throw BadInputError(path, std::string("cannot read the ") + format + " file: " + e.GetDescription());
    } catch (const std::bad_alloc&) {
        throw BadInputError(path, "too large to load into memory");
    }
    const auto [mn, mx] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    image.windowCenter = (static_cast<double>(*mn) + *mx) / 2.0;
    image.windowWidth = std::max(1e-6, static_cast<double>(*mx) - *mn);
    reorientToCanonical(image);
    return image;
}

void reorientToCanonical(Image& image)
{
    if (!image.hasGeometry || image.pixels.empty())
        return;
    int best = 0;
    for (int k = 1; k < 3; ++k)
        if (std::abs(image.direction[6 + k]) > std::abs(image.direction[6 + best]))
            best = k;
    reorientToPlane(image, best);
}

void reorientToPlane(Image& image, int slicePatient)
{
    if (!image.hasGeometry || image.pixels.empty() || slicePatient < 0 || slicePatient > 2)
        return;
    // Voxel axis a (0 = column, 1 = row, 2 = slice) points along direction[a*3 .. a*3+2].
    auto comp = [&](int axis, int patientAxis) { return image.direction[axis * 3 + patientAxis]; };
    // Wanted patient axis and sign for output column, row and slice, by plane (LPS: +x
    // is left, +y posterior, +z superior).
    int wantAxis[3];
    int wantSign[3];
    if (slicePatient == 2) {
        image.canonicalPlane = "axial";
        wantAxis[0] = 0, wantSign[0] = +1;  // columns R -> L
        wantAxis[1] = 1, wantSign[1] = +1;  // rows A -> P
        wantAxis[2] = 2, wantSign[2] = +1;  // slices I -> S
    } else if (slicePatient == 1) {
        image.canonicalPlane = "coronal";
        wantAxis[0] = 0, wantSign[0] = +1;  // columns R -> L
        wantAxis[1] = 2, wantSign[1] = -1;  // rows S -> I
        wantAxis[2] = 1, wantSign[2] = +1;  // slices A -> P
    } else {
        image.canonicalPlane = "sagittal";
        wantAxis[0] = 1, wantSign[0] = +1;  // columns A -> P
        wantAxis[1] = 2, wantSign[1] = -1;  // rows S -> I
        wantAxis[2] = 0, wantSign[2] = +1;  // slices R -> L
    }
    // Which source axis feeds each output axis: the slice axis is the source axis closest
    // to the plane's normal (the stored one on a tie); of the
    // other two, the one closer to the wanted column direction becomes the column.
    int src[3];
    src[2] = 2;
    for (int a = 1; a >= 0; --a)
        if (std::abs(comp(a, slicePatient)) > std::abs(comp(src[2], slicePatient)))
            src[2] = a;
    const int rest0 = src[2] == 0 ? 1 : 0, rest1 = src[2] == 2 ? 1 : 2;
    const bool firstIsColumn = std::abs(comp(rest0, wantAxis[0])) >= std::abs(comp(rest1, wantAxis[0]));
    src[0] = firstIsColumn ? rest0 : rest1;
    src[1] = firstIsColumn ? rest1 : rest0;
    bool flip[3];
    for (int a = 0; a < 3; ++a)
        flip[a] = comp(src[a], wantAxis[a]) * wantSign[a] < 0;
    if (src[0] == 0 && src[1] == 1 && !flip[0] && !flip[1] && !flip[2]) {
        fillSlicePositions(image);
        return;
    }

    const int n[3] = {image.width, image.height, image.slices};  // source sizes by axis
    const int out[3] = {n[src[0]], n[src[1]], n[src[2]]};
    const int ch = image.channels;
    std::vector<float> pixels(image.pixels.size());
    std::size_t o = 0;
    for (int s = 0; s < out[2]; ++s)
        for (int r = 0; r < out[1]; ++r)
            for (int c = 0; c < out[0]; ++c, o += ch) {
                int idx[3];
                const int outIdx[3] = {c, r, s};
                for (int a = 0; a < 3; ++a)
                    idx[src[a]] = flip[a] ? out[a] - 1 - outIdx[a] : outIdx[a];
                const std::size_t i = ((static_cast<std::size_t>(idx[2]) * n[1] + idx[1]) * n[0] + idx[0]) * ch;
                std::copy(image.pixels.begin() + static_cast<std::ptrdiff_t>(i),
                          image.pixels.begin() + static_cast<std::ptrdiff_t>(i + ch), pixels.begin() + static_cast<std::ptrdiff_t>(o));
            }

    // New origin: the patient position of the output's first voxel.
    std::array<double, 3> origin = image.origin;
    for (int a = 0; a < 3; ++a)
        if (flip[a])
            for (int k = 0; k < 3; ++k)
                origin[k] += (n[src[a]] - 1) * image.spacing[src[a]] * comp(src[a], k);
    std::array<double, 9> direction{};
    std::array<double, 3> spacing{};
    for (int a = 0; a < 3; ++a) {
        spacing[a] = image.spacing[src[a]];
        for (int k = 0; k < 3; ++k)
            direction[a * 3 + k] = comp(src[a], k) * (flip[a] ? -1.0 : 1.0);
    }
    image.pixels = std::move(pixels);
    image.width = out[0];
    image.height = out[1];
    image.slices = out[2];
    image.origin = origin;
    image.direction = direction;
    image.spacing = spacing;
    fillSlicePositions(image);
}

}  // namespace ei
