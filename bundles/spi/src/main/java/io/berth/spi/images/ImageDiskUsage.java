package io.berth.spi.images;

import java.util.List;

/**
 * The images' part of {@code docker system df -v}.
 *
 * @param layersSize bytes of content of every layer the images use, each layer counted once
 * @param images     every image, newest first
 */
public record ImageDiskUsage(long layersSize, List<Entry> images) {

    public ImageDiskUsage {
        images = List.copyOf(images);
    }

    /**
     * One image's use of disk.
     *
     * @param image      the image
     * @param sharedSize bytes of its layers that other images use too
     * @param uniqueSize bytes of its layers that only it uses ({@code size - sharedSize})
     * @param containers how many containers use it
     */
    public record Entry(Image image, long sharedSize, long uniqueSize, int containers) {
    }
}
