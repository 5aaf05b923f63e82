import Provisioner

extension ModuleContext {
    /// Why a systemd-only module cannot act here (`purpose` says what it was for); nil when
    /// systemd is PID 1, or when facts were not gathered to say otherwise.
    func systemdMissing(_ purpose: String) -> String? {
        guard let manager = facts["service_mgr"]?.string, manager != "systemd" else { return nil }
        return "systemd is not running here (PID 1 is \(manager)); \(purpose)"
    }
}
