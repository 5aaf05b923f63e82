import Provisioner

/// Ansible's `copy`: a file on the host with the given `content`, or the bytes of a
/// controller file (`src`, looked up in `files/`), with mode, owner and group.
struct CopyModule: Module {
    static let name = "copy"
    static let summary = "Copy a controller file or inline content to a file on the host"
    /// Files only: queued unit restarts may wait past this task (a unit and its config files, one reload).
    static let defersUnitRestarts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("dest", .path, required: true, doc: "file to write; a directory (or a path ending in '/') receives src's file name"),
        ArgumentSpec("src", .path, doc: "controller file to copy (relative: looked up in the role's or play's files/)"),
        ArgumentSpec("content", .raw, doc: "the file's content, instead of src (mappings and lists are written as JSON)"),
        ArgumentSpec("directory_mode", .mode, doc: "mode of directories created for a dest ending in '/'"),
    ] + ContentDeployment.specs

    let src: String?
    let content: [UInt8]?
    let deployment: ContentDeployment

    init(_ arguments: ModuleArguments) throws {
        src = arguments.string("src")
        switch arguments["content"] {
        case nil:
            content = nil
        case .string(let text)?:
            content = Array(text.utf8)
        case let value? where value.list != nil || value.dict != nil:
            content = Array(value.json.utf8)
        case let value?:
            content = Array((value.string ?? value.json).utf8)
        }
        switch (src, content) {
        case (nil, nil): throw ModuleError("src (or content) is required", argument: "src")
        case (_?, _?): throw ModuleError("src and content are mutually exclusive", argument: "content")
        default: break
        }
        if let src, src.hasSuffix("/") {
            throw ModuleError("copying a directory (\(src)) is not supported; copy its files one by one", argument: "src")
        }
        if arguments.string("mode") == "preserve" {
            throw ModuleError("mode 'preserve' is not supported: the controller file's mode is not available; give the mode", argument: "mode")
        }
        deployment = try ContentDeployment(arguments, sourceName: src.map(PathText.base(of:)))
    }

    func observations(_ context: ModuleContext) -> [Observation] { deployment.observations() }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let bytes = try content ?? context.readControllerFile(src ?? "", .file)
        var extra = ValueDict()
        if let src { extra["src"] = .string(src) }
        return try deployment.plan(bytes, observed, checkMode: context.checkMode, result: extra)
    }

    var controllerFiles: [(path: String, kind: ControllerFileKind)] { src.map { [($0, .file)] } ?? [] }
}
