#include "core/pacs/PacsClient.h"

#include "core/pacs/DicomWebClient.h"
#include "core/pacs/DimseClient.h"

namespace ei {

std::unique_ptr<PacsClient> connectTo(const DicomNode& node, const NodeOptions& options)
{
    if (node.isDicomWeb())
        return std::make_unique<DicomWebClient>(node, options);
    return std::make_unique<DimseClient>(node, options);
}

}  // namespace ei
