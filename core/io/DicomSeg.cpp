// See DicomSeg.h.
#include "core/io/DicomSeg.h"

#include "core/io/DicomLoaderCommon.h"
#include "models/Error.h"

#include <dcmtk/dcmfg/fginterface.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>

#include <cmath>
#include <memory>

namespace ei {

bool isDicomSegFile(const std::string& path)
{
    ensureDcmtkReady();
    DcmFileFormat file;
    if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect).bad())
        return false;
    return dicomString(file.getDataset(), DCM_SOPClassUID) == UID_SegmentationStorage;
}

Image loadDicomSegOnto(const std::string& path, const Image& target)
{
    ensureDcmtkReady();
    DcmFileFormat file;
    if (file.loadFile(path.c_str()).bad())
        throw BadInputError(path, "cannot read the DICOM file");
    Uint16 rows = 0, cols = 0;
    file.getDataset()->findAndGetUint16(DCM_Rows, rows);
    file.getDataset()->findAndGetUint16(DCM_Columns, cols);
    // Only a SEG goes to dcmseg: it leaks what it built when it fails on anything else.
    if (dicomString(file.getDataset(), DCM_SOPClassUID) != UID_SegmentationStorage)
        throw BadInputError(path, "is not a DICOM Segmentation (SOP Class " +
                                      dicomString(file.getDataset(), DCM_SOPClassUID) + ")");
    // dcmseg 3.6.7 leaks about 100 KB per file when it fails on a missing Number of
    // Frames (found by fuzz/dicom_fuzzer); such a file is refused before it gets there.
    Sint32 frameCount = 0;
    if (file.getDataset()->findAndGetSint32(DCM_NumberOfFrames, frameCount).bad() || frameCount < 1)
        throw BadInputError(path, "the DICOM SEG has no Number of Frames (0028,0008)");
    DcmSegmentation* raw = nullptr;
    const OFCondition loaded = DcmSegmentation::loadDataset(*file.getDataset(), raw);
    std::unique_ptr<DcmSegmentation> seg(raw);
    if (loaded.bad() || !seg)
        throw BadInputError(path, std::string("cannot read the DICOM SEG: ") + loaded.text());
    if (seg->getSegmentationType() != DcmSegTypes::ST_BINARY && seg->getSegmentationType() != DcmSegTypes::ST_FRACTIONAL)
        throw BadInputError(path, "unsupported segmentation type");
    if (rows != target.height || cols != target.width)
        throw BadInputError(path, "its frames are " + std::to_string(cols) + " x " + std::to_string(rows) +
                                      " pixels, the image is " + std::to_string(target.width) + " x " +
                                      std::to_string(target.height));
    Image mask = emptyLabelImageOn(target, path);
    mask.format = "dicom-seg";
    for (std::size_t s = 1; s <= seg->getNumberOfSegments(); ++s)
        if (DcmSegment* segment = seg->getSegment(s)) {
            OFString label;
            segment->getSegmentLabel(label);
            mask.tags.other["label " + std::to_string(s)] = label.c_str();
        }

    FGInterface& groups = seg->getFunctionalGroups();
    const std::size_t frames = seg->getNumberOfFrames();
    const bool binary = seg->getSegmentationType() == DcmSegTypes::ST_BINARY;
    for (std::size_t f = 0; f < frames; ++f) {
        auto* segFg = dynamic_cast<FGSegmentation*>(groups.get(static_cast<Uint32>(f), DcmFGTypes::EFG_SEGMENTATION));
        Uint16 number = 0;
        if (!segFg || segFg->getReferencedSegmentNumber(number).bad() || number == 0)
            throw BadInputError(path, "frame " + std::to_string(f + 1) + " names no segment");
        int slice = 0;
        if (target.isVolume()) {
            auto* pos = dynamic_cast<FGPlanePosPatient*>(groups.get(static_cast<Uint32>(f), DcmFGTypes::EFG_PLANEPOSPATIENT));
            Float64 x = 0, y = 0, z = 0;
            if (!pos || pos->getImagePositionPatient(x, y, z).bad())
                throw BadInputError(path, "frame " + std::to_string(f + 1) + " has no Image Position (Patient)");
            // Position along the target's axes, in voxels: must be a slice, on the grid.
            const double p[3] = {x - target.origin[0], y - target.origin[1], z - target.origin[2]};
            double idx[3];
            for (int a = 0; a < 3; ++a) {
                idx[a] = 0;
                for (int k = 0; k < 3; ++k)
                    idx[a] += p[k] * target.direction[a * 3 + k];
                idx[a] /= target.spacing[a] > 0 ? target.spacing[a] : 1.0;
            }
            slice = static_cast<int>(std::lround(idx[2]));
            if (std::abs(idx[0]) > 0.05 || std::abs(idx[1]) > 0.05 || std::abs(idx[2] - slice) > 0.05 || slice < 0 ||
                slice >= target.slices)
                throw BadInputError(path, "frame " + std::to_string(f + 1) + " does not lie on a slice of the image");
        } else if (frames > seg->getNumberOfSegments()) {
            throw BadInputError(path, "has more frames than segments for a 2-D image");
        }
        const DcmIODTypes::Frame* frame = seg->getFrame(f);
        if (!frame)
            throw BadInputError(path, "frame " + std::to_string(f + 1) + " has no pixel data");
        std::unique_ptr<DcmIODTypes::Frame> unpacked;
        const Uint8* data = frame->pixData;
        std::size_t length = frame->length;
        if (binary) {
            unpacked.reset(DcmSegUtils::unpackBinaryFrame(frame, rows, cols));
            if (!unpacked)
                throw BadInputError(path, "frame " + std::to_string(f + 1) + " cannot be unpacked");
            data = unpacked->pixData;
            length = unpacked->length;
        }
        if (length < static_cast<std::size_t>(rows) * cols)
            throw BadInputError(path, "frame " + std::to_string(f + 1) + " is shorter than its rows x columns");
        float* out = mask.pixels.data() + static_cast<std::size_t>(slice) * rows * cols;
        for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * cols; ++i)
            if (data[i] != 0)
                out[i] = std::max(out[i], static_cast<float>(number));
    }
    return mask;
}

}  // namespace ei
