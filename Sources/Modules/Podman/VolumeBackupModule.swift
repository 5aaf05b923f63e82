import Provisioner

/// A named podman volume saved to a tar archive on the host, with a `sha256sum` file beside it
/// (`DEST.sha256`). The archive holds the volume's root too, so owner and mode of every file, the root
/// included, come back on restore (`podman volume export`/`import` lose the root's). Root's volumes are
/// archived with host ids; a user's inside their user namespace (`podman unshare`), with the ids their
/// containers see.
struct VolumeBackupModule: Module {
    static let name = "volume_backup"
    static let summary = "Save a podman volume to a tar archive with its sha256 (see volume_restore)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, aliases: ["volume"], doc: "the volume"),
        ArgumentSpec("dest", .path, required: true, doc: "the archive on the host (DEST.sha256 is written beside it)"),
        ArgumentSpec("force", .bool, default: false, doc: "replace an existing archive (without it, an archive and its sha256 stand)"),
    ] + PodmanScope.specs

    let volume: String
    let dest: String
    let force: Bool
    let scope: PodmanScope

    init(_ arguments: ModuleArguments) throws {
        volume = arguments.string("name") ?? ""
        dest = arguments.string("dest") ?? ""
        force = arguments.bool("force")
        scope = try PodmanScope(arguments)
        try VolumeArchive.check(volume: volume, archive: dest, argument: "dest")
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [VolumeArchive.probe(volume, scope), .file(path: dest, content: false), .file(path: dest + ".sha256", content: false)]
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let state = VolumeArchive.parse(observed.command(VolumeArchive.probe(volume, scope).argv))
        let result = ValueDict([("name", .string(volume)), ("dest", .string(dest)), ("checksum_file", .string(dest + ".sha256"))])
        if observed.file(dest) != nil, observed.file(dest + ".sha256") != nil, !force { return Plan(result: result) }
        guard state.mountpoint != nil || context.checkMode else {
            return .failed("there is no volume \(volume) in \(scope.owner) podman to back up")
        }
        let argv = ["/bin/sh", "-c", VolumeArchive.backupScript, "volume-backup", volume, dest] + scope.runner
        return Plan(changes: [Change("back up volume \(volume) to \(dest)", diff: TextDiff(label: dest, before: observed.file(dest) == nil ? "absent\n" : "an older archive\n",
                                                                                         after: "archive of volume \(volume) and its sha256\n"),
                                     actions: [.run(scope.labeled(argv, "tar volume \(volume) to \(dest), sha256 to \(dest).sha256"))])],
                    result: result)
    }
}

/// A volume filled from a `volume_backup` archive on the host: the sha256 is checked before anything
/// changes, a volume that running containers use is refused, and one that holds data already is left
/// alone unless `force: true` (then its content is replaced).
struct VolumeRestoreModule: Module {
    static let name = "volume_restore"
    static let summary = "Fill a podman volume from a volume_backup archive (sha256 checked first; never under running containers)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, aliases: ["volume"], doc: "the volume (created when missing)"),
        ArgumentSpec("src", .path, required: true, doc: "the archive on the host; SRC.sha256 must be beside it"),
        ArgumentSpec("force", .bool, default: false, doc: "replace the content of a volume that holds data (without it, such a volume is kept)"),
    ] + PodmanScope.specs

    let volume: String
    let src: String
    let force: Bool
    let scope: PodmanScope

    init(_ arguments: ModuleArguments) throws {
        volume = arguments.string("name") ?? ""
        src = arguments.string("src") ?? ""
        force = arguments.bool("force")
        scope = try PodmanScope(arguments)
        try VolumeArchive.check(volume: volume, archive: src, argument: "src")
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [VolumeArchive.probe(volume, scope), .file(path: src, content: false), .file(path: src + ".sha256", content: false)]
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let state = VolumeArchive.parse(observed.command(VolumeArchive.probe(volume, scope).argv))
        var result = ValueDict([("name", .string(volume)), ("src", .string(src))])
        if !context.checkMode {
            guard observed.file(src) != nil else { return .failed("the archive \(src) does not exist") }
            guard observed.file(src + ".sha256") != nil else { return .failed("\(src).sha256 does not exist: without it the archive cannot be checked") }
        }
        if !state.users.isEmpty {
            return .failed("volume \(volume) is in use by running containers (\(state.users.joined(separator: ", "))): stop them first")
        }
        if state.holdsData && !force {
            result["msg"] = .string("volume \(volume) holds data already (force: true replaces it)")
            return Plan(result: result)
        }
        let argv = ["/bin/sh", "-c", VolumeArchive.restoreScript, "volume-restore", volume, src, force ? "1" : "0"] + scope.runner
        let before = state.mountpoint == nil ? "absent\n" : state.holdsData ? "holds data\n" : "empty\n"
        return Plan(changes: [Change("restore volume \(volume) from \(src)" + (state.mountpoint == nil ? " (creating it)" : ""),
                                     diff: TextDiff(label: "volume \(volume)", before: before, after: "restored from \(src)\n"),
                                     actions: [.run(scope.labeled(argv, "check \(src).sha256, untar \(src) into volume \(volume)"))])],
                    result: result)
    }
}

/// What the two volume modules share: the probe and the scripts.
enum VolumeArchive {
    static func check(volume: String, archive: String, argument: String) throws {
        guard QuadletModule.isUnitName(volume) else { throw ModuleError("'\(volume)' is not a volume name", argument: "name") }
        guard archive.hasPrefix("/"), !archive.hasSuffix("/") else {
            throw ModuleError("\(argument) must be an absolute file path on the host: '\(archive)'", argument: argument)
        }
    }

    /// The volume's mountpoint, whether it holds anything, and the running containers that use it.
    /// Arguments: VOLUME RUNNER...
    static let probeScript = #"""
    vol=$1; shift
    command -v podman >/dev/null 2>&1 || exit 0
    mp=$("$@" podman volume inspect --format '{{.Mountpoint}}' -- "$vol" 2>/dev/null) || exit 0
    echo "mountpoint $mp"
    [ -n "$(find "$mp" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ] && echo data
    for c in $("$@" podman ps --filter "volume=$vol" --format '{{.Names}}' 2>/dev/null); do echo "user $c"; done
    exit 0
    """#

    static func probe(_ volume: String, _ scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", probeScript, "volume-state", volume] + scope.runner)
    }

    struct State {
        var mountpoint: String?
        var holdsData = false
        var users: [String] = []
    }

    static func parse(_ output: CommandOutput?) -> State {
        var state = State()
        for line in (output?.stdout ?? "").split(separator: "\n") {
            if line.hasPrefix("mountpoint ") { state.mountpoint = String(line.dropFirst(11)) }
            if line == "data" { state.holdsData = true }
            if line.hasPrefix("user ") { state.users.append(String(line.dropFirst(5))) }
        }
        return state
    }

    /// tar of the volume (its root included) to DEST.provision-part, its sha256, then both in place.
    /// Root's volume: tar as root, numeric ids. A user's: `podman unshare tar` as the user (RUNNER given).
    /// Arguments: VOLUME DEST RUNNER...
    static let backupScript = #"""
    vol=$1 dest=$2; shift 2
    mp=$("$@" podman volume inspect --format '{{.Mountpoint}}' -- "$vol") || exit 1
    part=$dest.provision-part
    if [ $# -gt 0 ]; then "$@" podman unshare tar --numeric-owner -cpf - -C "$mp" . > "$part"
    else tar --numeric-owner -cpf - -C "$mp" . > "$part"; fi || { rm -f -- "$part"; exit 1; }
    sum=$(sha256sum < "$part" | cut -c1-64) || { rm -f -- "$part"; exit 1; }
    sync "$part" 2>/dev/null
    mv -f -- "$part" "$dest" || exit 1
    printf '%s  %s\n' "$sum" "${dest##*/}" > "$dest.sha256.provision-part" && mv -f -- "$dest.sha256.provision-part" "$dest.sha256"
    """#

    /// Checks SRC against SRC.sha256 before anything changes, creates the volume when missing, empties
    /// it with FORCE=1, then untars (root's: as root; a user's: inside their namespace).
    /// Arguments: VOLUME SRC FORCE RUNNER...
    static let restoreScript = #"""
    vol=$1 src=$2 force=$3; shift 3
    want=$(cut -c1-64 < "$src.sha256") || exit 1
    have=$(sha256sum < "$src" | cut -c1-64) || exit 1
    if [ "$want" != "$have" ]; then
      echo "$src does not match $src.sha256 (sha256 $have, expected $want): refused, nothing was changed" >&2; exit 1
    fi
    "$@" podman volume exists -- "$vol" 2>/dev/null || "$@" podman volume create -- "$vol" >/dev/null || exit 1
    mp=$("$@" podman volume inspect --format '{{.Mountpoint}}' -- "$vol") || exit 1
    if [ $# -gt 0 ]; then
      [ "$force" = 1 ] && { "$@" podman unshare find "$mp" -mindepth 1 -delete || exit 1; }
      "$@" podman unshare tar --numeric-owner -xpf - -C "$mp" < "$src"
    else
      [ "$force" = 1 ] && { find "$mp" -mindepth 1 -delete || exit 1; }
      tar --numeric-owner -xpf - -C "$mp" < "$src"
    fi
    """#
}
