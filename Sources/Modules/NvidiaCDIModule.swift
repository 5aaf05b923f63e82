import Provisioner

/// GPU access for containers through CDI (container runtime standard): on a host with an
/// NVIDIA driver, the NVIDIA container toolkit and the CDI spec that `nvidia-ctk cdi generate`
/// writes (podman's `--device nvidia.com/gpu=all` reads it).
///
/// The spec lists the driver's libraries by version, so it goes stale when the driver is
/// upgraded. A stamp file beside it (`.nvidia.yaml.driver`, the driver version) records which
/// driver the spec was made for; the spec is regenerated when either is missing or the stamp
/// names another driver. The spec itself is only stat'ed: comparing its content would need
/// nvidia-ctk, which may not be installed yet.
///
/// A host without an NVIDIA driver is skipped ("no NVIDIA GPU"), never failed, so one
/// playbook serves GPU and non-GPU hosts alike.
struct NvidiaCDIModule: Module {
    static let name = "nvidia_cdi"
    static let summary = "On a host with an NVIDIA GPU: the NVIDIA container toolkit (from NVIDIA's repository) and its CDI spec, "
        + "regenerated when the driver changes"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"],
                     doc: "present: toolkit installed and the spec made for the running driver; absent: spec and stamp removed (the toolkit stays)"),
        ArgumentSpec("output", .path, default: .string(defaultOutput), doc: "the CDI spec file nvidia-ctk writes"),
        ArgumentSpec("toolkit_package", .string, default: .string(defaultPackage),
                     doc: "the package with nvidia-ctk; it comes from NVIDIA's repository, so a failed install means that repository is not configured"),
        ArgumentSpec("install_toolkit", .bool, default: true,
                     doc: "install toolkit_package when nvidia-ctk is missing; false fails instead"),
    ]

    static let defaultOutput = "/etc/cdi/nvidia.yaml"
    static let defaultPackage = "nvidia-container-toolkit"
    static let versionFile = "/proc/driver/nvidia/version"

    /// Prints the driver version, or exits 1 without an NVIDIA driver. The loaded module's
    /// version line (proprietary: `... x86_64 Kernel Module  550.54.15  Tue Mar ...`; open:
    /// `... Open Kernel Module for x86_64  550.54.15  Release Build ...`) is split into words and
    /// the first dotted number taken, since "x86_64" defeats a "first digits" match. nvidia-smi
    /// is the fallback; it prints its errors on stdout, so the plan checks the version's form.
    static func driverScript(versionFile: String = versionFile) -> String {
        #"f=\#(versionFile); if [ -r "$f" ]; then grep "Kernel Module" "$f" | head -n 1 | tr -s " \t" "\n\n" | grep -E "^[0-9]+\.[0-9.]+$" | head -n 1; exit 0; fi; "#
            + #"command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1 && exit 0; exit 1"#
    }

    static let driverProbe = ["/bin/sh", "-c", driverScript()]
    static let toolkitProbe = ["/bin/sh", "-c", "command -v nvidia-ctk"]

    let present: Bool
    let output: String
    let toolkitPackage: String
    let installToolkit: Bool

    init(_ arguments: ModuleArguments) throws {
        present = arguments.string("state") != "absent"
        output = arguments.string("output") ?? NvidiaCDIModule.defaultOutput
        toolkitPackage = arguments.string("toolkit_package") ?? NvidiaCDIModule.defaultPackage
        installToolkit = arguments.bool("install_toolkit")
        guard output.hasPrefix("/"), !PathText.base(of: output).isEmpty else {
            throw ModuleError("output must be an absolute file path, not '\(output)'", argument: "output")
        }
        guard PackageManager.isPlainName(toolkitPackage) else {
            throw ModuleError("toolkit_package must be a package name, not '\(toolkitPackage)'", argument: "toolkit_package")
        }
    }

    var directory: String { PathText.directory(of: output) }
    /// Named after the spec, so two specs in one folder keep separate stamps.
    var stamp: String { PathText.join(directory, "." + PathText.base(of: output) + ".driver") }

    func observations(_ context: ModuleContext) -> [Observation] {
        let files: [Observation] = [.file(path: output, content: false), .file(path: stamp, content: true)]
        guard present else { return files }
        return [.command(NvidiaCDIModule.driverProbe), .command(NvidiaCDIModule.toolkitProbe),
                .file(path: directory, content: false)] + files
    }

    /// The version when it looks like one (550.54.15); anything else means no usable driver.
    static func driverVersion(_ output: CommandOutput?) -> String? {
        guard let output, output.status == 0,
              let line = output.stdout.split(separator: "\n").first?.trimming(" ").trimming("\r"),
              let first = line.first, first.isASCII, first.isNumber, line.contains("."),
              line.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
        return line
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        var result = ValueDict([("spec", .string(output))])
        guard present else {
            let changes = [output, stamp].filter { observed.file($0) != nil }
                .map { Change("remove \($0)", actions: [.remove(path: $0)]) }
            return Plan(changes: changes, result: result)
        }
        guard let driver = NvidiaCDIModule.driverVersion(observed.command(NvidiaCDIModule.driverProbe)) else {
            return .skipped("no NVIDIA GPU", result: result)
        }
        result["driver_version"] = .string(driver)
        var changes: [Change] = []
        if observed.command(NvidiaCDIModule.toolkitProbe)?.status != 0 {
            if installToolkit {
                guard let manager = PackageManager(facts: context.facts) else {
                    return .failed(PackageManager.unsupported(context.facts) + "; install \(toolkitPackage) another way")
                }
                changes.append(Change("install \(toolkitPackage) (from NVIDIA's repository) for nvidia-ctk",
                                      actions: [.run(manager.installCommand([toolkitPackage]))]))
            } else if !context.checkMode {
                // In check mode an earlier task installing the toolkit did not run.
                return .failed("nvidia-ctk is not installed and install_toolkit is false: install \(toolkitPackage) "
                    + "(from NVIDIA's repository) first, or set install_toolkit: true")
            }
        }
        let recorded = observed.file(stamp)?.content.map { String(decoding: $0, as: UTF8.self).trimming("\n") }
        let why: String?
        if observed.file(output) == nil {
            why = "missing"
        } else if let recorded, recorded == driver {
            why = nil
        } else {
            why = recorded.map { "made for driver \($0)" } ?? "made for an unknown driver"
        }
        if let why {
            var actions: [Action] = []
            if observed.file(directory) == nil {
                actions.append(.makeDirectory(path: directory, attributes: FileAttributes(mode: 0o755)))
            }
            actions.append(.run(Command(["nvidia-ctk", "cdi", "generate", "--output=\(output)"])))
            actions.append(.writeFile(path: stamp, content: Array("\(driver)\n".utf8), attributes: FileAttributes(mode: 0o644), backup: false))
            changes.append(Change("generate \(output) for driver \(driver) (\(why))",
                                  diff: TextDiff(label: stamp, before: recorded.map { "\($0)\n" } ?? "", after: "\(driver)\n"),
                                  actions: actions))
        }
        return Plan(changes: changes, result: result)
    }
}
