package io.berth.shell;

import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.RegistryClient;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/** Gogo commands in scope {@code berth} for images, as the docker CLI names them. */
@Component(service = ImageCommands.class, property = {
        "osgi.command.scope=berth",
        "osgi.command.function=images",
        "osgi.command.function=load",
        "osgi.command.function=save",
        "osgi.command.function=tag",
        "osgi.command.function=rmi",
        "osgi.command.function=pull",
        "osgi.command.function=push"})
public class ImageCommands {

    private final ImageStore images;

    @Activate
    public ImageCommands(@org.osgi.service.component.annotations.Reference ImageStore images) {
        this.images = images;
    }

    @Descriptor("list images: repository, tag, id, size")
    public void images() throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
        for (Image image : images.list()) {
            String id = shortId(image.id());
            if (image.repoTags().isEmpty()) {
                rows.add(new String[] {"<none>", "<none>", id, image.created(), Long.toString(image.size())});
            }
            for (String tag : image.repoTags()) {
                io.berth.spi.images.Reference reference = io.berth.spi.images.Reference.parse(tag);
                rows.add(new String[] {reference.familiarName(), String.valueOf(reference.tag()), id, image.created(),
                        Long.toString(image.size())});
            }
        }
        System.out.print(Table.render(rows));
    }

    @Descriptor("load images from a docker save archive or an OCI layout tar")
    public void load(@Descriptor("the archive file") String file) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(Path.of(file)), 1 << 20)) {
            for (Image image : images.load(in)) {
                if (image.repoTags().isEmpty()) {
                    System.out.println("Loaded image ID: " + image.id());
                }
                for (String tag : image.repoTags()) {
                    System.out.println("Loaded image: " + familiar(tag));
                }
            }
        }
    }

    @Descriptor("save an image to a docker save archive")
    public void save(@Descriptor("the archive file to write") String file,
                     @Descriptor("image name or id") String name) throws IOException {
        Path target = Path.of(file);
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20)) {
            images.save(List.of(name), out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
    }

    @Descriptor("give an image another name")
    public void tag(@Descriptor("source image") String source, @Descriptor("new name") String target) throws IOException {
        images.tag(source, target);
    }

    @Descriptor("remove an image name, and the image with its last name")
    public void rmi(@Parameter(names = {"-f", "--force"}, presentValue = "true", absentValue = "false")
                    @Descriptor("untag every name of an image given by id") boolean force,
                    @Descriptor("image name or id") String name) throws IOException {
        images.remove(name, force).forEach(System.out::println);
    }

    @Descriptor("pull an image from a registry")
    public void pull(@Descriptor("reference, e.g. localhost:5000/app:1") String reference) throws IOException {
        io.berth.spi.images.Image image = images.pull(reference, null, RegistryClient.Credentials.NONE,
                ImageCommands::printProgress);
        System.out.println(image.id());
    }

    @Descriptor("push an image to a registry")
    public void push(@Descriptor("image name, e.g. localhost:5000/app:1") String name) throws IOException {
        String digest = images.push(name, RegistryClient.Credentials.NONE, ImageCommands::printProgress);
        System.out.println("digest: " + digest);
    }

    /** One line per event that says something; byte counts of running downloads are left out. */
    private static void printProgress(RegistryClient.Progress progress) {
        if (progress.status().equals("Downloading") || progress.status().equals("Pushing")) {
            return;
        }
        System.out.println((progress.id() == null || progress.id().isEmpty() ? "" : progress.id() + ": ") + progress.status());
    }

    private static String familiar(String reference) {
        io.berth.spi.images.Reference parsed = io.berth.spi.images.Reference.parse(reference);
        return parsed.familiarName() + (parsed.tag() == null ? "" : ":" + parsed.tag());
    }

    private static String shortId(String id) {
        String hex = id.startsWith("sha256:") ? id.substring(7) : id;
        return hex.substring(0, Math.min(12, hex.length()));
    }
}
