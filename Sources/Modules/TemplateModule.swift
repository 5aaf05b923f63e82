import Provisioner

/// Ansible's `template`: a controller template (looked up in `templates/`) rendered
/// with the task's variables and written like `copy` writes.
struct TemplateModule: Module {
    static let name = "template"
    static let summary = "Render a template from the controller into a file on the host"
    /// Files only: queued unit restarts may wait past this task (a unit and its config files, one reload).
    static let defersUnitRestarts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("src", .path, required: true, doc: "template on the controller (relative: looked up in templates/)"),
        ArgumentSpec("dest", .path, required: true, doc: "file to write; a directory receives the template's file name"),
        ArgumentSpec("newline_sequence", .string, default: "\n", choices: ["\n", "\r", "\r\n", "\\n", "\\r", "\\r\\n"],
                     doc: "line ending written to dest"),
        ArgumentSpec("trim_blocks", .bool, default: true, doc: "drop the newline after a block tag (only the default is supported)"),
        ArgumentSpec("lstrip_blocks", .bool, default: false, doc: "strip spaces before a block tag (only the default is supported)"),
    ] + ContentDeployment.specs

    let src: String
    let newline: String
    let deployment: ContentDeployment

    init(_ arguments: ModuleArguments) throws {
        src = arguments.string("src") ?? ""
        // Ansible accepts the escaped spellings too.
        switch arguments.string("newline_sequence") ?? "\n" {
        case "\\r": newline = "\r"
        case "\\r\\n": newline = "\r\n"
        case "\\n": newline = "\n"
        case let sequence: newline = sequence
        }
        // The renderer has one mode, Ansible's default; say so rather than render differently.
        if !arguments.bool("trim_blocks") {
            throw ModuleError("trim_blocks: false is not supported (templates are rendered with Ansible's default, true)", argument: "trim_blocks")
        }
        if arguments.bool("lstrip_blocks") {
            throw ModuleError("lstrip_blocks: true is not supported (templates are rendered with Ansible's default, false)", argument: "lstrip_blocks")
        }
        if arguments.string("mode") == "preserve" {
            throw ModuleError("mode 'preserve' is not supported: the template's mode is not available; give the mode", argument: "mode")
        }
        deployment = try ContentDeployment(arguments, sourceName: PathText.base(of: src))
    }

    func observations(_ context: ModuleContext) -> [Observation] { deployment.observations() }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let source = try context.readControllerFile(src, .template)
        let text = try context.renderTemplate(String(decoding: source, as: UTF8.self), src)
        return try deployment.plan(TemplateModule.endingLines(Array(text.utf8), with: Array(newline.utf8)), observed, checkMode: context.checkMode,
                                   result: ValueDict([("src", .string(src))]))
    }

    /// Jinja's `newline_sequence`: every line break of the output becomes `newline`.
    static func endingLines(_ bytes: [UInt8], with newline: [UInt8]) -> [UInt8] {
        guard newline != [UInt8(ascii: "\n")] else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                out += newline
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { out += newline } else { out.append(byte) }
            index += 1
        }
        return out
    }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] { [(src, .template)] }
}
