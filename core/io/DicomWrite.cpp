#include "core/io/DicomWrite.h"

#include "models/Error.h"

#include <dcmtk/dcmdata/dcfilefo.h>

#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace ei {

void saveDicomFileAtomically(DcmFileFormat& file, const std::string& path)
{
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path temporary = target.parent_path() / ("." + target.filename().string() + ".part" + std::to_string(::getpid()));
    DcmDataset* dataset = file.getDataset();
    const E_TransferSyntax xfer = dataset->getOriginalXfer() == EXS_Unknown ? EXS_LittleEndianExplicit : dataset->getOriginalXfer();
    std::error_code ec;
    const OFCondition saved = file.saveFile(temporary.c_str(), xfer);
    if (saved.bad()) {
        fs::remove(temporary, ec);
        throw BadInputError(path, std::string("cannot write the DICOM file: ") + saved.text());
    }
    fs::rename(temporary, target, ec);
    if (ec) {
        fs::remove(temporary, ec);
        throw BadInputError(path, "cannot move the DICOM file into place: " + ec.message());
    }
}

}  // namespace ei
