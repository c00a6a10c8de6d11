// EIView's storage SCP: the C-STORE receiver that a C-MOVE sends its instances to. It
// listens on a port under EIView's AE title on a worker thread (DCMTK DcmSCP) and writes
// every instance it receives under a folder (ReceivedInstance.h), reporting each one.
#pragma once

#include "core/pacs/DimseAssociation.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ei {

class StorageReceiver {
public:
    StorageReceiver(std::string aeTitle, int port, std::string outDir, InstanceHandler handler);
    ~StorageReceiver();
    StorageReceiver(const StorageReceiver&) = delete;
    StorageReceiver& operator=(const StorageReceiver&) = delete;

    // Opens the port (BadInputError when it cannot: in use, or privileged) and starts
    // accepting associations on a worker thread.
    void start();
    // Stops after the association in progress, if any, and joins the thread.
    void stop();
    int port() const { return port_; }
    // The first problem the receiver met (an instance it could not save), or empty.
    std::string error() const;

private:
    class Scp;
    std::string aeTitle_;
    int port_;
    std::string outDir_;
    InstanceHandler handler_;
    std::unique_ptr<Scp> scp_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::string error_;
};

}  // namespace ei
