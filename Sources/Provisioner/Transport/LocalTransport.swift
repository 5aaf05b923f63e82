import Foundation

/// The local machine: observations through system calls, actions through atomic
/// file operations and processes. Nothing here interprets a module's intent.
public final class LocalTransport: Transport {
    public let name = "local"
    public private(set) var roundTrips = 0
    private var userNames: [uid_t: String] = [:]
    private var groupNames: [gid_t: String] = [:]
    /// Set while this run holds the machine's host lock and may change things: stale temp files
    /// beside the paths it observes are removed (see `Leftovers`), and reported.
    var leftovers: (lockFile: String, report: ([String]) -> Void)?
    private var sweptFolders = Set<String>()

    public init() {}

    public func observe(_ requests: [Observation]) throws -> Observations {
        roundTrips += 1
        var result = Observations()
        var paths: [String] = [], targets: [String] = []
        for request in requests {
            if case .file(let path, _) = request { paths.append(path) }
            if case .target(let path) = request { targets.append(path) }
        }
        let located = Locations.requests(paths: paths, targets: targets)
        if let leftovers {
            let folders = Locations.folders(of: located).filter { sweptFolders.insert($0).inserted }
            let removed = Leftovers.sweep(folders, lockFile: leftovers.lockFile)
            if !removed.isEmpty { leftovers.report(removed) }
        }
        // One path may be asked for with and without content; read it once, with content.
        var withContent = Set<String>()
        for case .file(let path, true) in requests { withContent.insert(path) }
        for request in requests {
            switch request {
            case .file(let path, let content):
                if content != withContent.contains(path) { continue }
                if let state = try fileState(path, content: content) {
                    result.files[path] = state
                } else {
                    result.missing.insert(path)
                }
            case .command(let argv):
                result.commands[argv] = try Subprocess.run(Command(argv))
            case .target(let path):
                if let state = try fileState(path, content: false, follow: true) {
                    result.targets[path] = state
                } else {
                    result.unresolved.insert(path)
                }
            }
        }
        for request in located {
            result.locations[request.path] = Locations.local(request)
        }
        return result
    }

    public func perform(_ action: Action) throws -> ActionResult {
        roundTrips += 1
        switch action {
        case .writeFile(let path, let content, let attributes, let backup):
            try AtomicFile.write(content, to: path, attributes: attributes, backup: backup)
        case .remove(let path):
            try remove(path)
        case .makeDirectory(let path, let attributes):
            try makeDirectory(path, attributes: attributes)
        case .setAttributes(let path, let attributes):
            try AtomicFile.apply(attributes, to: path)
        case .touch(let path):
            guard utimensat(AT_FDCWD, path, nil, AT_SYMLINK_NOFOLLOW) == 0 else { throw posixError("touch", path) }
        case .symlink(let path, let target):
            try AtomicFile.symlink(path, to: target)
        case .run(let command):
            return ActionResult(output: try Subprocess.run(command))
        }
        return ActionResult()
    }

    func fileState(_ path: String, content: Bool, follow: Bool = false) throws -> FileState? {
        var st = stat()
        if follow {
            // Like `stat -L`: anything that keeps the path from resolving means no target.
            guard stat(path, &st) == 0 else { return nil }
        } else {
            guard lstat(path, &st) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw posixError("stat", path)
            }
        }
        let kind: FileState.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .link
        default: kind = .other
        }
        var state = FileState(kind: kind, mode: UInt32(st.st_mode & 0o7777), owner: userName(st.st_uid),
                              group: groupName(st.st_gid), size: Int(st.st_size),
                              modified: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9, links: Int(st.st_nlink))
        if kind == .link {
            state.linkTarget = try? FileManager.default.destinationOfSymbolicLink(atPath: path)
        }
        if content && kind == .file {
            guard let data = FileManager.default.contents(atPath: path) else { throw posixError("read", path) }
            state.content = [UInt8](data)
        }
        return state
    }

    func remove(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw TransportError("cannot remove \(path): \(error.localizedDescription)")
            }
        } else if unlink(path) != 0 {
            throw posixError("remove", path)
        }
    }

    /// Like `mkdir -p`, giving every directory it creates the requested attributes.
    func makeDirectory(_ path: String, attributes: FileAttributes) throws {
        var missing: [String] = []
        var current = path
        while !current.isEmpty && current != "/" {
            var st = stat()
            if stat(current, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFDIR else {
                    throw TransportError("cannot create directory \(path): \(current) exists and is not a directory")
                }
                break
            }
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for dir in missing.reversed() {
            guard mkdir(dir, mode_t(attributes.mode ?? 0o755)) == 0 || errno == EEXIST else { throw posixError("mkdir", dir) }
            try AtomicFile.apply(attributes, to: dir)
        }
    }

    func userName(_ uid: uid_t) -> String {
        if let name = userNames[uid] { return name }
        let name = getpwuid(uid).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? String(uid)
        userNames[uid] = name
        return name
    }

    func groupName(_ gid: gid_t) -> String {
        if let name = groupNames[gid] { return name }
        let name = getgrgid(gid).flatMap { String(validatingCString: $0.pointee.gr_name) } ?? String(gid)
        groupNames[gid] = name
        return name
    }
}

func posixError(_ what: String, _ path: String) -> TransportError {
    TransportError("\(what) \(path): \(String(cString: strerror(errno)))")
}
