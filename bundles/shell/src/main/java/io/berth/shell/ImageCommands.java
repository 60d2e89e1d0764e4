package io.berth.shell;

import io.berth.spi.images.Image;
import io.berth.spi.images.ImageDiskUsage;
import io.berth.spi.images.ImageHistory;
import io.berth.spi.images.ImagePruneReport;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.RegistryClient;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Gogo commands in scope {@code berth} for images, as the docker CLI names them; {@code import},
 * {@code image-inspect}, {@code image-prune} and {@code system-df} are {@link DashedCommands}.
 */
// Immediate: the dashed commands must stay registered, not come and go with each call of another command.
@Component(service = ImageCommands.class, immediate = true, property = {
        "osgi.command.scope=berth",
        "osgi.command.function=images",
        "osgi.command.function=history",
        "osgi.command.function=load",
        "osgi.command.function=save",
        "osgi.command.function=tag",
        "osgi.command.function=rmi",
        "osgi.command.function=pull",
        "osgi.command.function=push"})
public class ImageCommands {

    private final ImageStore images;
    private final DashedCommands dashedCommands;

    @Activate
    public ImageCommands(BundleContext context,
                         @org.osgi.service.component.annotations.Reference ImageStore images) {
        this.images = images;
        this.dashedCommands = new DashedCommands(context);
        dashedCommands.register("import", arguments -> {
            importImage(arguments);
            return null;
        });
        dashedCommands.register("image-inspect", arguments -> {
            imageInspect(arguments);
            return null;
        });
        dashedCommands.register("image-prune", arguments -> {
            imagePrune(arguments);
            return null;
        });
        dashedCommands.register("system-df", arguments -> {
            systemDf(arguments);
            return null;
        });
    }

    @Deactivate
    void stop() {
        dashedCommands.unregisterAll();
    }

    @Descriptor("list images: repository, tag, id, size")
    public void images(@Parameter(names = {"-f", "--filter"}, absentValue = "")
                       @Descriptor("dangling=true (only images without a tag) or dangling=false") String filter)
            throws IOException {
        Boolean dangling = switch (filter) {
            case "" -> null;
            case "dangling=true", "dangling=1" -> true;
            case "dangling=false", "dangling=0" -> false;
            default -> throw new IllegalArgumentException("unsupported filter \"" + filter
                    + "\": berth:images takes dangling=true or dangling=false");
        };
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
        for (Image image : images.list()) {
            if (dangling != null && dangling != image.repoTags().isEmpty()) {
                continue;
            }
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

    @Descriptor("show the history of an image, newest step first")
    public void history(@Parameter(names = {"--no-trunc"}, presentValue = "true", absentValue = "false")
                        @Descriptor("show whole ids and commands") boolean noTrunc,
                        @Descriptor("image name or id") String name) throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
        for (ImageHistory step : images.history(name)) {
            String createdBy = step.createdBy().replace('\n', ' ');
            if (!noTrunc && createdBy.length() > 45) {
                createdBy = createdBy.substring(0, 44) + "…";
            }
            rows.add(new String[] {noTrunc || step.id().startsWith("<") ? step.id() : shortId(step.id()),
                    step.created(), createdBy, Sizes.human(step.size()), step.comment()});
        }
        System.out.print(Table.render(rows));
    }

    /** {@code import [--change C]... [--message M] FILE|- [REF]}: {@code -} reads the command's input (a pipe). */
    void importImage(List<Object> arguments) throws IOException {
        String usage = "usage: berth:import [--change INSTRUCTION]... [--message TEXT] FILE|- [REFERENCE]";
        List<String> changes = new ArrayList<>();
        String message = null;
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < arguments.size(); i++) {
            String argument = String.valueOf(arguments.get(i));
            switch (argument) {
                case "-c", "--change", "-m", "--message" -> {
                    if (i + 1 == arguments.size()) {
                        throw new IllegalArgumentException(argument + " needs a value; " + usage);
                    }
                    String value = String.valueOf(arguments.get(++i));
                    if (argument.equals("-c") || argument.equals("--change")) {
                        changes.add(value);
                    } else {
                        message = value;
                    }
                }
                default -> positional.add(argument);
            }
        }
        if (positional.isEmpty() || positional.size() > 2) {
            throw new IllegalArgumentException(usage);
        }
        String source = positional.get(0);
        String reference = positional.size() == 2 ? positional.get(1) : null;
        Image image;
        if (source.equals("-")) {
            image = images.importImage(System.in, reference, message, changes);
        } else {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(Path.of(source)), 1 << 20)) {
                image = images.importImage(in, reference, message, changes);
            }
        }
        System.out.println(image.id());
    }

    /** {@code image-inspect IMAGE...}: Docker's JSON array of inspect documents. */
    void imageInspect(List<Object> arguments) throws IOException {
        if (arguments.isEmpty()) {
            throw new IllegalArgumentException("usage: berth:image-inspect IMAGE...");
        }
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < arguments.size(); i++) {
            String document = new String(images.inspect(String.valueOf(arguments.get(i))), StandardCharsets.UTF_8);
            out.append(i == 0 ? "\n" : ",\n").append(document.indent(4).stripTrailing());
        }
        System.out.println(out.append("\n]"));
    }

    /** {@code image-prune [-a|--all]}: dangling images, or every image no container uses. */
    void imagePrune(List<Object> arguments) throws IOException {
        boolean all = false;
        for (Object argument : arguments) {
            if (argument.equals("-a") || argument.equals("--all")) {
                all = true;
            } else {
                throw new IllegalArgumentException("usage: berth:image-prune [-a|--all]");
            }
        }
        ImagePruneReport report = images.prune(all);
        if (!report.deleted().isEmpty()) {
            System.out.println("Deleted Images:");
            report.deleted().forEach(line -> System.out.println(line.replaceFirst("^Untagged:", "untagged:")
                    .replaceFirst("^Deleted:", "deleted:")));
            System.out.println();
        }
        System.out.println("Total reclaimed space: " + Sizes.human(report.spaceReclaimed()));
    }

    /** {@code system-df [-v]}: the images' use of disk, as {@code docker system df} shows it. */
    void systemDf(List<Object> arguments) throws IOException {
        boolean verbose = false;
        for (Object argument : arguments) {
            if (argument.equals("-v") || argument.equals("--verbose")) {
                verbose = true;
            } else {
                throw new IllegalArgumentException("usage: berth:system-df [-v|--verbose]");
            }
        }
        ImageDiskUsage usage = images.diskUsage();
        long used = 0;
        int active = 0;
        for (ImageDiskUsage.Entry entry : usage.images()) {
            if (entry.containers() > 0) {
                active++;
                used += entry.image().size() - entry.sharedSize();
            }
        }
        long reclaimable = usage.layersSize() - used;
        long percent = usage.layersSize() == 0 ? 0 : reclaimable * 100 / usage.layersSize();
        List<String[]> summary = new ArrayList<>();
        summary.add(new String[] {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"});
        summary.add(new String[] {"Images", Integer.toString(usage.images().size()), Integer.toString(active),
                Sizes.human(usage.layersSize()), Sizes.human(reclaimable) + " (" + percent + "%)"});
        System.out.print(Table.render(summary));
        if (!verbose) {
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                "CONTAINERS"});
        for (ImageDiskUsage.Entry entry : usage.images()) {
            Image image = entry.image();
            String[] sizes = {Sizes.human(image.size()), Sizes.human(entry.sharedSize()),
                    Sizes.human(entry.uniqueSize()), Integer.toString(entry.containers())};
            List<String> tags = image.repoTags().isEmpty() ? List.of("<none>:<none>") : image.repoTags();
            for (String tag : tags) {
                int colon = tag.lastIndexOf(':');
                rows.add(new String[] {tag.substring(0, colon), tag.substring(colon + 1), shortId(image.id()),
                        image.created(), sizes[0], sizes[1], sizes[2], sizes[3]});
            }
        }
        System.out.println();
        System.out.println("Images space usage:");
        System.out.println();
        System.out.print(Table.render(rows));
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
