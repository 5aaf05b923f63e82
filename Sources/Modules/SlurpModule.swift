import Provisioner

/// Ansible's `slurp`: a file's bytes, base64-encoded, read in the play's observation round trip.
struct SlurpModule: Module {
    static let name = "slurp"
    static let summary = "Read a file from the host (base64 content)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("src", .path, required: true, aliases: ["path"], doc: "the file to read"),
    ]

    let src: String

    init(_ arguments: ModuleArguments) throws {
        src = arguments.string("src") ?? ""
        if src.isEmpty { throw ModuleError("src must not be empty", argument: "src") }
    }

    /// base64(1) keeps any bytes intact on the way back.
    var probe: Observation { .command(["base64", "-w", "0", "--", src]) }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let output = observed.command(probe.argv) else { return .failed("slurp could not read \(src)") }
        guard output.status == 0 else {
            let error = output.stderr
            if error.contains("No such file") || error.contains("Not a directory") { return .failed("File not found: \(src)") }
            if error.contains("Permission denied") { return .failed("File is not readable: \(src)") }
            if error.contains("Is a directory") { return .failed("Source is a directory and must be a file: \(src)") }
            return .failed("Unable to slurp file: \(src)")
        }
        return Plan(result: ["content": .string(output.stdout.trimmingCharacters(in: .newlines)), "source": .string(src),
                             "encoding": "base64"])
    }
}
