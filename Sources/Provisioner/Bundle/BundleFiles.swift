import Foundation

/// A bundle problem: what is wrong and with which file, so the user knows which drive or download to redo.
public struct BundleError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Streaming file access for bundles: files are GBs, so they are read and written in chunks, hashed on
/// the way, never held whole in memory.
enum BundleIO {
    static let chunkSize = 1 << 20

    /// An open file descriptor, closed when the value goes.
    final class File {
        let fd: Int32
        let path: String

        init(reading path: String) throws {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            self.path = path
            if fd < 0 { throw BundleError("\(path): cannot read (\(String(cString: strerror(errno))))") }
        }

        init(creating path: String, mode: Int) throws {
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
            self.path = path
            if fd < 0 { throw BundleError("\(path): cannot create (\(String(cString: strerror(errno))))") }
        }

        deinit { close(fd) }

        /// Up to `count` bytes into `buffer`; 0 at the end.
        func read(into buffer: UnsafeMutableRawBufferPointer, count: Int) throws -> Int {
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, min(count, buffer.count))
                if n >= 0 { return n }
                if errno != EINTR { throw BundleError("\(path): read failed (\(String(cString: strerror(errno))))") }
            }
        }

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = errno == ENOSPC ? "out of disk space" : String(cString: strerror(errno))
                    throw BundleError("\(path): write failed (\(reason))")
                }
                offset += n
            }
        }

        func write(_ text: String) throws { try Array(text.utf8).withUnsafeBytes { try write($0) } }

        /// Flushes to the medium: a bundle on a USB stick must be whole before it is unplugged.
        func sync() throws {
            if fsync(fd) != 0 { throw BundleError("\(path): fsync failed (\(String(cString: strerror(errno))))") }
        }
    }

    static func fileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    static func fileMode(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0o644 }
        return Int(info.st_mode & 0o7777)
    }

    /// Reads `path` through in chunks, handing each to `body`; returns the byte count and sha256.
    @discardableResult
    static func stream(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void = { _ in }) throws -> (size: Int, sha256: String) {
        let file = try File(reading: path)
        var hasher = SHA256Hasher()
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try file.read(into: buffer, count: chunkSize)
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(chunk)
            try body(chunk)
            total += n
        }
        return (total, hasher.finalizeHex())
    }

    static func sha256(_ path: String) throws -> (size: Int, sha256: String) { try stream(path) }

    /// A fresh temporary directory beside `path` (same file system, so the final rename is atomic).
    static func temporaryDirectory(beside path: String) throws -> String {
        let parent = (path as NSString).deletingLastPathComponent
        var template = Array(((parent.isEmpty ? "." : parent) + "/.\((path as NSString).lastPathComponent).partial.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw BundleError("\(parent): cannot create a temporary directory (\(String(cString: strerror(errno))))") }
        return String(cString: template)
    }

    static func makeParent(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }

    /// Moves a finished temporary directory into place; `target` must not exist yet.
    static func commit(_ temporary: String, to target: String) throws {
        if FileManager.default.fileExists(atPath: target) {
            throw BundleError("\(target) exists already: remove it or choose another -o")
        }
        if rename(temporary, target) != 0 {
            throw BundleError("\(target): cannot move the finished bundle into place (\(String(cString: strerror(errno))))")
        }
    }
}
