import Provisioner

/// The kinds of quadlet unit (podman-systemd.unit(5)): the file's extension and main section, the podman
/// version that brought it, the service quadlet generates, and the podman object it makes.
enum QuadletKind: String, CaseIterable, Sendable {
    case container, volume, network, pod, kube, image, build

    var section: String {
        switch self {
        case .container: return "Container"
        case .volume: return "Volume"
        case .network: return "Network"
        case .pod: return "Pod"
        case .kube: return "Kube"
        case .image: return "Image"
        case .build: return "Build"
        }
    }

    /// The first podman whose quadlet reads this kind.
    var since: PodmanVersion {
        switch self {
        case .container, .volume, .network, .kube: return QuadletKind.quadlet
        case .image: return PodmanVersion("4.8")!
        case .pod: return PodmanVersion("5.0")!
        case .build: return PodmanVersion("5.2")!
        }
    }

    static let quadlet = PodmanVersion("4.4")!
    /// Drop-in folders (NAME.TYPE.d/*.conf).
    static let dropIns = PodmanVersion("5.0")!

    /// The service quadlet generates: `ServiceName=` when set, else its default naming.
    func service(name: String, unit: UnitFile) -> String {
        if let custom = unit.value(section, "ServiceName"), !custom.isEmpty {
            return custom.hasSuffix(".service") ? custom : custom + ".service"
        }
        switch self {
        case .container, .kube: return name + ".service"
        default: return "\(name)-\(rawValue).service"
        }
    }

    /// The key naming the podman object, and quadlet's default name for it (`systemd-NAME`).
    var objectKey: String? {
        switch self {
        case .volume: return "VolumeName"
        case .network: return "NetworkName"
        case .container: return "ContainerName"
        case .pod: return "PodName"
        case .image: return "Image"
        case .build: return "ImageTag"
        case .kube: return nil
        }
    }

    /// What `purge: true` removes with the unit (podman's object kind and name); nil when it names none.
    func purged(name: String, unit: UnitFile) -> (kind: String, name: String)? {
        let object = objectKey.flatMap { unit.value(section, $0) }
        switch self {
        case .volume: return ("volume", object ?? "systemd-\(name)")
        case .network: return ("network", object ?? "systemd-\(name)")
        case .image, .build: return object.map { ("image", $0) }
        default: return nil
        }
    }

    /// Start order: what others use first.
    var rank: Int {
        switch self {
        case .image, .build: return 0
        case .volume, .network: return 1
        case .pod: return 2
        case .container: return 3
        case .kube: return 4
        }
    }

    /// Other quadlet units this unit names (`Volume=data.volume:/x`, `Network=app.network`, `Pod=`, an
    /// `Image=` of a `.image`/`.build`, `Mount=...,source=x.volume`): stand-ins for these let `--check`
    /// validate a unit whose neighbours an earlier task has not written yet.
    static func references(in unit: UnitFile) -> [String] {
        let kinds = ["volume", "network", "pod", "image", "build"]
        var found: [String] = []
        for section in unit.sections {
            for entry in section.entries {
                var candidates = [entry.value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""]
                for field in entry.value.split(separator: ",") {
                    let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                    if pair.count == 2, ["source", "src"].contains(pair[0]) { candidates.append(pair[1]) }
                }
                for candidate in candidates where !candidate.contains("/") {
                    let parts = candidate.split(separator: ".")
                    if parts.count >= 2, let last = parts.last, kinds.contains(String(last)), !found.contains(candidate) {
                        found.append(candidate)
                    }
                }
            }
        }
        return found
    }

    /// A minimal valid unit of the kind a reference names, for the generator check's scratch folder.
    static func standIn(for reference: String) -> String {
        switch reference.split(separator: ".").last.map(String.init) {
        case "image"?: return "[Image]\nImage=localhost/provision-check-stand-in:latest\n"
        case "build"?: return "[Build]\nImageTag=localhost/provision-check-stand-in:latest\nSetWorkingDirectory=/\n"
        case "pod"?: return "[Pod]\n"
        case "network"?: return "[Network]\n"
        default: return "[Volume]\n"
        }
    }
}
