import Foundation

/// Writes that never leave a half-written target: a temp file beside it gets the
/// bytes, the mode and owner, and an fsync; then one rename replaces the target.
enum AtomicFile {
    static func write(_ content: [UInt8], to path: String, attributes: FileAttributes, backup: Bool) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array("\(directory.isEmpty ? "." : directory)/.\(base).provision-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw posixError("create a temporary file for", path) }
        let temp = String(cString: template)
        var done = false
        defer {
            if !done { unlink(temp) }
        }
        do {
            defer { close(fd) }
            var offset = 0
            while offset < content.count {
                let n = content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, content.count - offset) }
                guard n > 0 else { throw posixError("write", temp) }
                offset += n
            }
            // Keep the old file's mode and owner unless told otherwise; new files get 0666 less the umask.
            // Owner first: chown clears setuid/setgid, so the mode must come after it.
            var existing = stat()
            let exists = stat(path, &existing) == 0
            let uid = try attributes.owner.map(userID) ?? (exists ? existing.st_uid : geteuid())
            let gid = try attributes.group.map(groupID) ?? (exists ? existing.st_gid : getegid())
            if uid != geteuid() || gid != getegid() {
                guard fchown(fd, uid, gid) == 0 else { throw posixError("chown", temp) }
            }
            let mode = attributes.mode ?? (exists ? UInt32(existing.st_mode & 0o7777) : 0o666 & ~currentUmask())
            guard fchmod(fd, mode_t(mode)) == 0 else { throw posixError("chmod", temp) }
            guard fsync(fd) == 0 else { throw posixError("fsync", temp) }
            if backup && exists { try makeBackup(of: path) }
        }
        guard rename(temp, path) == 0 else { throw posixError("rename into", path) }
        done = true
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Ansible's backup name: `PATH.PID.YYYY-MM-DD@HH:MM:SS~`, a hard link to the old file.
    static func makeBackup(of path: String) throws {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        let name = "\(path).\(getpid()).\(formatter.string(from: Date()))~"
        guard link(path, name) == 0 else {
            do { try FileManager.default.copyItem(atPath: path, toPath: name) } catch {
                throw TransportError("cannot back up \(path): \(error.localizedDescription)")
            }
            return
        }
    }

    static func apply(_ attributes: FileAttributes, to path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw posixError("stat", path) }
        let isLink = st.st_mode & S_IFMT == S_IFLNK
        // Owner first: chown clears setuid/setgid, so the mode is set (again) after it.
        var chowned = false
        if attributes.owner != nil || attributes.group != nil {
            let uid = try attributes.owner.map(userID) ?? st.st_uid
            let gid = try attributes.group.map(groupID) ?? st.st_gid
            if uid != st.st_uid || gid != st.st_gid {
                guard lchown(path, uid, gid) == 0 else { throw posixError("chown", path) }
                chowned = true
            }
        }
        if let mode = attributes.mode, !isLink, chowned || UInt32(st.st_mode & 0o7777) != mode {
            guard chmod(path, mode_t(mode)) == 0 else { throw posixError("chmod", path) }
        }
    }

    static func symlink(_ path: String, to target: String) throws {
        let temp = "\(path).provision-link-\(getpid())"
        unlink(temp)
        guard Glibc.symlink(target, temp) == 0 else { throw posixError("symlink", temp) }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            throw posixError("rename into", path)
        }
    }

    static func userID(_ name: String) throws -> uid_t {
        if let id = uid_t(name) { return id }
        guard let pw = getpwnam(name) else { throw TransportError("no such user '\(name)'") }
        return pw.pointee.pw_uid
    }

    static func groupID(_ name: String) throws -> gid_t {
        if let id = gid_t(name) { return id }
        guard let gr = getgrnam(name) else { throw TransportError("no such group '\(name)'") }
        return gr.pointee.gr_gid
    }

    static func currentUmask() -> UInt32 {
        let mask = umask(0o022)
        umask(mask)
        return UInt32(mask)
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
