package io.berth.spi.images;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Who uses an image: the container store registers this service so that the image store refuses to remove an
 * image a container needs ({@code docker rmi} without force, {@code image prune}). The image store consults every
 * registered one; with none registered no image is in use.
 */
@ConsumerType
public interface ImageUsers {

    /** A container that uses an image. */
    record User(String containerId, boolean running) {
    }

    /** The containers whose image is {@code imageId} ({@code sha256:...}); empty when none. */
    List<User> usersOf(String imageId);
}
