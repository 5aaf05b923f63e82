import Foundation

/// Writes that never leave a half-written target: a temp file beside it gets the
/// bytes, the mode and owner, and an fsync; then one rename replaces the target.
enum AtomicFile {
    static func write(_ content: [UInt8], to path: String, attributes: FileAttributes, backup: Bool) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let folder = directory.isEmpty ? "." : directory
        // Keep the old file's mode and owner unless told otherwise.
        var existing = stat()
        let exists = stat(path, &existing) == 0
        let mode = attributes.mode ?? (exists ? UInt32(existing.st_mode & 0o7777) : nil)
        // A new file without a mode gets 0666 less the umask from the kernel: the process umask is
        // never read (reading it means setting it, which races with every other thread).
        let (fd, temp) = try createTemporary(in: folder, for: base, mode: mode == nil ? 0o666 : 0o600)
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
            // Owner first: chown clears setuid/setgid, so the mode must come after it.
            let uid = try attributes.owner.map(userID) ?? (exists ? existing.st_uid : geteuid())
            let gid = try attributes.group.map(groupID) ?? (exists ? existing.st_gid : getegid())
            if uid != geteuid() || gid != getegid() {
                guard fchown(fd, uid, gid) == 0 else { throw posixError("chown", temp) }
            }
            if let mode {
                guard fchmod(fd, mode_t(mode)) == 0 else { throw posixError("chmod", temp) }
            }
            guard fsync(fd) == 0 else { throw posixError("fsync", temp) }
            if backup && exists { try makeBackup(of: path) }
        }
        guard rename(temp, path) == 0 else { throw posixError("rename into", path) }
        done = true
        syncDirectory(folder)
    }

    /// `FOLDER/.NAME.provision-XXXXXX`, created exclusively with `mode` (less the umask, by the kernel).
    static func createTemporary(in folder: String, for name: String, mode: mode_t) throws -> (Int32, String) {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in 0..<100 {
            let suffix = String((0..<6).map { _ in letters[Int.random(in: 0..<letters.count)] })
            let temp = "\(folder)/.\(name).provision-\(suffix)"
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if fd >= 0 { return (fd, temp) }
            guard errno == EEXIST else { throw posixError("create a temporary file for", "\(folder)/\(name)") }
        }
        throw TransportError("cannot create a temporary file for \(folder)/\(name): every name tried exists")
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

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// Temp files an interrupted run left beside its targets, recognised by their names
/// (`.NAME.provision-XXXXXX` from a write, `NAME.provision-link-PID` from a link), removed
/// by the next run that holds the host lock. Only stale ones: a write's temp file older
/// than that lock (any run still writing took the lock after it), a link's whose process
/// is gone; another user's only when running as root.
enum Leftovers {
    static func sweep(_ folders: [String], lockFile: String) -> [String] {
        var lock = stat()
        guard stat(lockFile, &lock) == 0 else { return [] }
        let uid = geteuid()
        var removed: [String] = []
        for folder in folders {
            let writes = matches("\(folder)/.*.provision-??????").map { ($0, false) }
            let links = matches("\(folder)/*.provision-link-*").map { ($0, true) }
            for (path, isLink) in writes + links {
                var st = stat()
                guard lstat(path, &st) == 0, uid == 0 || st.st_uid == uid else { continue }
                let stale: Bool
                if isLink {
                    let pid = pid_t(path.components(separatedBy: ".provision-link-").last ?? "") ?? 0
                    stale = st.st_mode & S_IFMT == S_IFLNK && (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
                } else {
                    stale = st.st_mode & S_IFMT == S_IFREG && older(st.st_mtim, than: lock.st_mtim)
                }
                if stale && unlink(path) == 0 { removed.append(path) }
            }
        }
        return removed
    }

    private static func older(_ a: timespec, than b: timespec) -> Bool {
        a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec)
    }

    private static func matches(_ pattern: String) -> [String] {
        var found = glob_t()
        defer { globfree(&found) }
        guard glob(pattern, 0, nil, &found) == 0 else { return [] }
        return (0..<Int(found.gl_pathc)).compactMap { found.gl_pathv[$0].map { String(cString: $0) } }
    }
}
