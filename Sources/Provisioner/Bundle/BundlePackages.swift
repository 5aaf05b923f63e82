import Foundation

/// The Debian release a bundle's packages are resolved for: the connected machine's (the default) or the one
/// `provision bundle --packages-for debian:13` names. CONTENTS records it, and the offline apply refuses to
/// install the bundle's packages on a host of another release or architecture.
public struct PackageTarget: Sendable, Equatable, CustomStringConvertible {
    /// os-release's ID (`debian`).
    public var distribution: String
    /// os-release's VERSION_ID (`12`).
    public var version: String
    /// os-release's VERSION_CODENAME (`bookworm`).
    public var codename: String
    /// dpkg's architecture (`amd64`).
    public var architecture: String

    public init(distribution: String, version: String, codename: String, architecture: String) {
        (self.distribution, self.version, self.codename, self.architecture) = (distribution, version, codename, architecture)
    }

    public var description: String { "\(distribution) \(version) (\(codename), \(architecture))" }
    /// CONTENTS' key: `debian 12 bookworm amd64`.
    var contentsKey: String { "\(distribution) \(version) \(codename) \(architecture)" }

    init?(contentsKey: String) {
        let words = contentsKey.split(separator: " ").map(String.init)
        guard words.count == 4 else { return nil }
        self.init(distribution: words[0], version: words[1], codename: words[2], architecture: words[3])
    }

    static let debianReleases = ["11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky"]

    /// `debian:13` or `debian:trixie`, for the connected machine's architecture.
    static func parse(_ text: String, architecture: String) throws -> PackageTarget {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw BundleError("--packages-for '\(text)': give DISTRIBUTION:RELEASE, e.g. debian:13 or debian:trixie")
        }
        switch parts[0] {
        case "debian":
            if let codename = debianReleases[parts[1]] {
                return PackageTarget(distribution: "debian", version: parts[1], codename: codename, architecture: architecture)
            }
            if let version = debianReleases.first(where: { $0.value == parts[1] })?.key {
                return PackageTarget(distribution: "debian", version: version, codename: parts[1], architecture: architecture)
            }
            let known = debianReleases.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            throw BundleError("--packages-for '\(text)': unknown Debian release; known: \(known)")
        case "fedora", "rhel", "centos", "rocky", "almalinux":
            throw BundleError("--packages-for '\(text)': Fedora/RHEL packages are not bundled (dnf download --resolve is not implemented): "
                + "install them on the air-gapped host before the offline apply, or bundle for a Debian release")
        default:
            throw BundleError("--packages-for '\(text)': packages are bundled for Debian releases only (debian:12, debian:13)")
        }
    }

    /// The machine this runs on, from /etc/os-release and dpkg; nil fields make an error naming what is missing.
    static func connectedMachine(osRelease: String = "/etc/os-release") throws -> PackageTarget {
        guard let text = try? String(contentsOfFile: osRelease, encoding: .utf8) else {
            throw BundleError("\(osRelease): cannot read it, so the release to bundle packages for is unknown: give --packages-for debian:13")
        }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        let architecture = try dpkgArchitecture()
        guard let id = fields["ID"], let version = fields["VERSION_ID"], let codename = fields["VERSION_CODENAME"],
              !id.isEmpty, !version.isEmpty, !codename.isEmpty else {
            throw BundleError("\(osRelease) names no ID, VERSION_ID and VERSION_CODENAME (a testing or unstable system?): "
                + "give the release to bundle packages for with --packages-for debian:13")
        }
        return PackageTarget(distribution: id, version: version, codename: codename, architecture: architecture)
    }

    static func dpkgArchitecture() throws -> String {
        guard let output = try? HostCommand.run("dpkg", ["--print-architecture"]), output.status == 0 else {
            throw BundleError("packages are bundled with apt-get download, and this machine has no dpkg/apt-get (a Fedora machine?): "
                + "make the bundle on a Debian machine (--packages-for debian:13 for another release); "
                + "Fedora packages (dnf download --resolve) are not bundled")
        }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `uname -m` (the `architecture` fact) → dpkg's name.
    static let machineArchitectures = ["x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "i686": "i386", "i386": "i386",
                                       "ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64"]

    /// Nil when a host with these facts runs this release on this architecture; otherwise what it runs, for the message.
    public func mismatch(facts: ValueDict) -> String? {
        let distribution = (facts["distribution"]?.string ?? "").lowercased()
        let codename = facts["distribution_release"]?.string ?? ""
        let version = facts["distribution_major_version"]?.string ?? ""
        let machine = facts["architecture"]?.string ?? ""
        let architecture = PackageTarget.machineArchitectures[machine] ?? machine
        let sameRelease = codename.isEmpty ? version == self.version.split(separator: ".").first.map(String.init) : codename == self.codename
        if distribution == self.distribution, sameRelease, architecture == self.architecture { return nil }
        return "\(distribution.isEmpty ? "unknown" : distribution) \(facts["distribution_version"]?.string ?? version) "
            + "(\(codename.isEmpty ? "no codename" : codename), \(architecture.isEmpty ? "unknown architecture" : architecture))"
    }
}

/// The bundle's local package repository as the offline apply uses it on the air-gapped machine.
public struct OfflinePackages: Sendable, Equatable {
    /// The folder holding Packages, Release and the .deb files (inside the verified bundle).
    public var repository: String
    public var target: PackageTarget
    /// Every package name the repository holds.
    public var names: Set<String>
    /// False for a host reached over ssh: the repository is on the controller, not on that host.
    public var onThisMachine = true

    public init(repository: String, target: PackageTarget, names: Set<String>) {
        (self.repository, self.target, self.names) = (repository, target, names)
    }

    /// The `Package:` names of a Packages file.
    static func names(inPackagesFile text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line in
            line.hasPrefix("Package: ") ? String(line.dropFirst("Package: ".count)).trimmingCharacters(in: .whitespaces) : nil
        })
    }
}

/// `provision bundle`'s packages: the dependency closure of what the play installs, resolved against an empty
/// dpkg status (so nothing is assumed installed but the release's essential packages) in a private apt root,
/// downloaded (`apt-get install --download-only`), and made a flat repository: the .deb files, `Packages`
/// (dpkg-scanpackages) and a `Release` with its sha256, which the offline apply reads as a `[trusted=yes]`
/// file: source (the MANIFEST already vouches for every byte).
struct PackageCollector {
    static let folder = "packages"

    /// One package task's names, and whether apt would take their Recommends (install_recommends not false).
    struct Request: Equatable {
        var names: [String]
        var recommends: Bool
    }

    var target: PackageTarget
    /// True when the target is another release than the connected machine's: sources of our own then.
    var foreignRelease: Bool
    var progress: (String) -> Void

    /// Downloads the closure of `requests` into `staging`/packages and writes Packages and Release there;
    /// returns the repository folder.
    func collect(_ requests: [Request], staging: String) throws -> String {
        let root = staging + "/apt"
        let repository = staging + "/" + PackageCollector.folder
        for folder in ["lists/partial", "cache", "archives/partial", "parts", "preferences.d", "etc"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/status", contents: Data())
        var options = ["-o", "Dir::State::Lists=\(root)/lists", "-o", "Dir::State::status=\(root)/status",
                       "-o", "Dir::State::extended_states=\(root)/extended_states", "-o", "Dir::Cache=\(root)/cache",
                       "-o", "Dir::Cache::archives=\(root)/archives", "-o", "APT::Architecture=\(target.architecture)",
                       "-o", "Acquire::Languages=none"]
        if foreignRelease {
            try sources(for: target).write(toFile: root + "/etc/sources.list", atomically: true, encoding: .utf8)
            options += ["-o", "Dir::Etc::SourceList=\(root)/etc/sources.list", "-o", "Dir::Etc::SourceParts=\(root)/parts",
                        "-o", "Dir::Etc::Preferences=\(root)/etc/preferences", "-o", "Dir::Etc::PreferencesParts=\(root)/preferences.d"]
        }
        progress("reading the package index of \(target)")
        let update = try HostCommand.run("apt-get", options + ["-q", "update"])
        let fetchFailed = update.stdout.split(separator: "\n").contains { $0.hasPrefix("Err:") } || update.stderr.contains("Failed to fetch")
        guard update.status == 0, !fetchFailed else {
            throw BundleError("apt-get update for \(target) failed (exit \(update.status)): "
                + (update.stderr + update.stdout).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        for request in requests {
            progress("downloading \(request.names.joined(separator: ", ")) with their dependencies for \(target)")
            let recommends = request.recommends ? ["-o", "APT::Install-Recommends=true"] : ["--no-install-recommends"]
            let download = try HostCommand.run("apt-get", options + ["-q", "-y", "-o", "APT::Cmd::Pattern-Only=1"] + recommends
                                               + ["install", "--download-only", "--"] + request.names)
            guard download.status == 0 else {
                throw BundleError("apt-get could not download \(request.names.joined(separator: ", ")) for \(target) (exit \(download.status)): "
                    + download.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        let archives = root + "/archives"
        let debs = try FileManager.default.contentsOfDirectory(atPath: archives).filter { $0.hasSuffix(".deb") }.sorted()
        for deb in debs { try FileManager.default.moveItem(atPath: archives + "/" + deb, toPath: repository + "/" + deb) }
        let scan = try HostCommand.run("sh", ["-c", "cd \"$1\" && dpkg-scanpackages --multiversion . /dev/null", "sh", repository])
        guard scan.status == 0 else {
            throw BundleError("dpkg-scanpackages failed (exit \(scan.status); install dpkg-dev): \(scan.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let packages = Array(scan.stdout.utf8)
        try Data(packages).write(to: URL(fileURLWithPath: repository + "/Packages"))
        try Data(PackageCollector.release(packages: packages, target: target).utf8).write(to: URL(fileURLWithPath: repository + "/Release"))
        progress("\(debs.count) package(s) for \(target) in \(PackageCollector.folder)/")
        return repository
    }

    /// A flat repository's Release: the release it is for (so `default_release` still names it), when it was made,
    /// and Packages' sha256. (The offline apply does not judge the Date: an air-gapped host's clock may be behind.)
    static func release(packages: [UInt8], target: PackageTarget, date: time_t = time(nil)) -> String {
        var when = date
        var parts = tm()
        gmtime_r(&when, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let stamp = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
        return """
        Origin: provision bundle
        Label: provision bundle
        Suite: \(target.codename)
        Codename: \(target.codename)
        Date: \(stamp)
        Architectures: \(target.architecture) all
        Description: packages for \(target), bundled by provision
        SHA256:
         \(SHA256.hex(packages)) \(packages.count) Packages

        """
    }

    /// Sources for another release than this machine's: its Debian mirror (as testhosts/build-image.sh finds it),
    /// the release, its updates and its security suite, signed by the Debian archive keyring.
    func sources(for target: PackageTarget) throws -> String {
        var mirror = "http://deb.debian.org/debian", security = "http://deb.debian.org/debian-security"
        var uris: [String] = []
        for file in ["/etc/apt/sources.list"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/apt/sources.list.d")) ?? [])
            .sorted().map({ "/etc/apt/sources.list.d/" + $0 }) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if words.first == "URIs:" { uris += words.dropFirst() }
                if words.first == "deb", let uri = words.dropFirst().first(where: { $0.contains("://") }) { uris.append(uri) }
            }
        }
        if let found = uris.first(where: { $0.hasSuffix("/debian") || $0.hasSuffix("/debian/") }) { mirror = found }
        if let found = uris.first(where: { $0.contains("debian-security") }) { security = found }
        let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        guard FileManager.default.fileExists(atPath: keyring) else {
            throw BundleError("\(keyring) is missing: apt-get install debian-archive-keyring to read Debian \(target.version)'s index")
        }
        let signed = "[signed-by=\(keyring)]"
        return """
        deb \(signed) \(mirror) \(target.codename) main
        deb \(signed) \(mirror) \(target.codename)-updates main
        deb \(signed) \(security) \(target.codename)-security main

        """
    }
}
