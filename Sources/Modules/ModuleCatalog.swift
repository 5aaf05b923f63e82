import Provisioner

/// Every module `provision` knows, for the engine's name lookup and `--help`.
public enum ModuleCatalog {
    public static let all: [any Module.Type] = [
        FileModule.self,
        CopyModule.self,
        TemplateModule.self,
        LineInFileModule.self,
        CommandModule.self,
        ShellModule.self,
        UserModule.self,
        GroupModule.self,
        ServiceModule.self,
        PackageModule.self,
        DockerCompatModule.self,
        LingerModule.self,
        StorageConfModule.self,
        RegistriesConfModule.self,
        ContainersConfModule.self,
        SubidModule.self,
        SysctlModule.self,
        NvidiaCDIModule.self,
        // Services (Podman/): units, containers, images.
        QuadletModule.self,
        ContainerModule.self,
        ImageModule.self,
        VolumeBackupModule.self,
        VolumeRestoreModule.self,
    ]
}
