import Foundation

/// `install.sh --dry-run` (`--check` of a bundle): which planned actions need root on this machine, judged
/// for the user who asked (the one behind sudo, or the one running; for root itself, any user but root), from the
/// folders' owners and modes as they are now and the programs a command runs. A judgement of the plan, not a
/// promise: a command the table does not know is shown without a mark.
public struct RootNeed: Sendable {
    /// The user judged for; nil: root with no SUDO_UID, judged as "a user other than root".
    var uid: uid_t?
    var gids: Set<gid_t> = []

    public init(uid: uid_t?, gids: Set<gid_t> = []) {
        self.uid = uid
        self.gids = gids
    }

    /// The user behind `sudo`, else the one running (nil for root itself).
    public static func invokingUser() -> RootNeed {
        let environment = ProcessInfo.processInfo.environment
        let uid: uid_t? = getuid() != 0 ? getuid() : environment["SUDO_UID"].flatMap { uid_t($0) }
        var gids = Set<gid_t>()
        if getuid() != 0 {
            gids.insert(getgid())
            let count = getgroups(0, nil)
            if count > 0 {
                var list = [gid_t](repeating: 0, count: Int(count))
                let got = getgroups(count, &list)
                if got > 0 { gids.formUnion(list.prefix(Int(got))) }
            }
        } else if let gid = environment["SUDO_GID"].flatMap({ gid_t($0) }) {
            gids.insert(gid)
        }
        return RootNeed(uid: uid, gids: gids)
    }

    /// Programs that change the system (package managers, accounts, system services, kernel settings).
    static let systemPrograms: Set<String> = [
        "apt-get", "apt", "dpkg", "dnf", "dnf5", "yum", "rpm", "useradd", "usermod", "userdel", "groupadd", "groupmod",
        "groupdel", "chpasswd", "loginctl", "sysctl", "mount", "umount", "modprobe", "update-alternatives", "update-ca-certificates",
    ]

    /// Why `action` needs root here; nil when the user can do it (or it cannot be told).
    public func reason(_ action: Action, become: String?) -> String? {
        if let become, become == "root", uid != 0 { return "the task becomes root" }
        switch action {
        case .writeFile(let path, _, let attributes, _):
            return folderReason(parent(path)) ?? ownership(attributes) ?? (exists(path) && !owns(path) ? "\(path) is not yours" : nil)
        case .makeDirectory(let path, let attributes):
            return folderReason(path) ?? ownership(attributes)
        case .remove(let path), .symlink(let path, _):
            return folderReason(parent(path))
        case .setAttributes(let path, let attributes):
            return ownership(attributes) ?? (owns(path) ? nil : "\(path) is not yours")
        case .touch(let path):
            return owns(path) || writable(path) ? nil : "\(path) is not yours"
        case .run(let command):
            let words = (command.label ?? command.argv.joined(separator: " ")).split(separator: " ").map(String.init)
            guard let program = words.first.map({ ($0 as NSString).lastPathComponent }) else { return nil }
            if RootNeed.systemPrograms.contains(program) { return "\(program) changes the system" }
            if program == "systemctl" && !words.contains("--user") { return "systemctl manages the system's services" }
            return nil
        }
    }

    func parent(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    func owns(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return true }
        return uid.map { info.st_uid == $0 } ?? (info.st_uid != 0)
    }

    func writable(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        if info.st_mode & 0o002 != 0 { return true }
        if let uid, info.st_uid == uid { return info.st_mode & 0o200 != 0 }
        if uid == nil, info.st_uid != 0 { return true }
        return gids.contains(info.st_gid) && info.st_mode & 0o020 != 0
    }

    /// A file made inside `folder` (or `folder` made with its parents) needs root when its nearest existing
    /// folder is not writable by the user.
    func folderReason(_ folder: String) -> String? {
        var current = folder.isEmpty ? "/" : folder
        while !exists(current), current != "/" { current = parent(current) }
        return writable(current) ? nil : "\(current) is not writable by \(userName)"
    }

    /// Giving a file to another user or group needs root.
    func ownership(_ attributes: FileAttributes) -> String? {
        if let owner = attributes.owner {
            let id = getpwnam(owner).map { $0.pointee.pw_uid } ?? uid_t(owner)
            if id != uid { return "it is owned by \(owner)" }
        }
        if let group = attributes.group {
            let id = getgrnam(group).map { $0.pointee.gr_gid } ?? gid_t(group)
            if let id, !gids.contains(id) { return "its group is \(group)" }
        }
        return nil
    }

    var userName: String {
        guard let uid else { return "a user other than root" }
        return getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid \(uid)"
    }
}
