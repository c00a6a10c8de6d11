// See DicomRecovery.h.
#include "core/io/DicomRecovery.h"

#include "models/Error.h"

#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <cstring>
#include <fstream>
#include <vector>

namespace ei {

bool rereadDataSetAsImplicit(const std::string& path, DcmFileFormat& file)
{
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    // "DICM" at 128, then (0002,0000) UL 4 <group length> in explicit VR little endian.
    if (bytes.size() < 144 || std::memcmp(bytes.data() + 128, "DICM", 4) != 0 || bytes[132] != 0x02 || bytes[133] != 0 ||
        bytes[134] != 0 || bytes[135] != 0 || bytes[136] != 'U' || bytes[137] != 'L')
        return false;
    std::uint32_t groupLength = 0;
    std::memcpy(&groupLength, bytes.data() + 140, 4);
    const std::size_t start = 144 + static_cast<std::size_t>(groupLength);
    if (start >= bytes.size())
        return false;
    DcmDataset* ds = file.getDataset();
    ds->clear();
    // A file stream, not a memory buffer: DCMTK checks each value length against the
    // bytes left in a file, while from a buffer it allocates whatever length a damaged
    // element declares (gigabytes for a 4 KB file; found by fuzz/dicom_fuzzer).
    DcmInputFileStream stream(path.c_str(), static_cast<offile_off_t>(start));
    if (stream.status().bad())
        return false;
    ds->transferInit();
    const OFCondition status = ds->read(stream, EXS_LittleEndianImplicit);
    ds->transferEnd();
    if (status.bad() || !ds->tagExists(DCM_Rows))
        return false;
    // The fragments were filed under the implicit syntax; file them under the meta
    // header's, so that DCMTK's decoders (and its colour handling) take them as usual.
    OFString xfer;
    file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, xfer);
    const E_TransferSyntax meta = DcmXfer(xfer.c_str()).getXfer();
    DcmElement* element = nullptr;
    auto* pixelData = ds->findAndGetElement(DCM_PixelData, element).good() ? dynamic_cast<DcmPixelData*>(element) : nullptr;
    DcmPixelSequence* sequence = nullptr;
    if (!pixelData || !DcmXfer(meta).isEncapsulated() ||
        pixelData->getEncapsulatedRepresentation(EXS_LittleEndianImplicit, nullptr, sequence).bad() || !sequence)
        return false;
    pixelData->putOriginalRepresentation(meta, nullptr, new DcmPixelSequence(*sequence));
    return true;
}

}  // namespace ei
