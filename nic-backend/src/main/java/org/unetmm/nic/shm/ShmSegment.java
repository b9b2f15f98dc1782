package org.unetmm.nic.shm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.Libc;

/**
 * An endpoint's fixed segment in shared memory, as base U-Net's communication segment: a file
 * under {@code /dev/shm} (mode 0600, owned by the user), {@code unetmm-<name>@<number>.seg}
 * after the NIC's name and a number it draws per segment ({@code @} is not allowed in a name, so
 * no NIC's files pass for another's). The NIC that owns the endpoint maps the file read-write over
 * the segment's own pages ({@link ShmTransport#segmentMemory}: the engine pins and frees them as
 * any segment); a peer maps it read-only when a frame first names it. A fixed-path send copies the
 * user's bytes into the segment; its frame names (number, offset, length) and the peer's NIC copies
 * them out of its mapping into the posted buffer: two copies, as base U-Net, and no third through
 * the ring.
 *
 * <pre>
 *  offset  field (little-endian)                            written by
 *       0  long magic 'UNMMSEG1' (last)                     the owner
 *       8  int  pid of the owner's process
 *      12  int  segment bytes
 *      16  long the owner's process start time
 *    4096  the segment [bytes, rounded up to a page]        the owner's sends
 * </pre>
 *
 * The owner removes the file when the segment is freed (its endpoint closed) or its NIC closes; a
 * peer that finds the owner dead removes it, and {@link ShmDirectory#removeStale} removes one whose
 * owner is gone when a NIC opens. Nothing a peer reads here is trusted: the header is checked
 * against the peer it names, and every (offset, length) of a frame against the segment's bytes
 * before the NIC copies ({@link Receiver}).
 */
final class ShmSegment {
    static final long MAGIC = 0x3147_4553_4D4D_4E55L; // "UNMMSEG1" little-endian
    static final int MAGIC_OFFSET = 0;
    static final int PID_OFFSET = 8;
    static final int BYTES_OFFSET = 12;
    static final int START_TIME_OFFSET = 16;
    static final int HEADER_LENGTH = 24;
    /** Where the segment's bytes start in the file: a page, so they map page-aligned. */
    static final int DATA_OFFSET = 4096;
    static final String SUFFIX = ".seg";
    /** The most segments a NIC numbers; a frame naming a number above it is dropped before any lookup. */
    static final int MAX_NUMBER = 1 << 16;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int MAP_FIXED = 0x10;

    final Path path;
    final int number;
    /** The segment's memory in the owner; the engine pins it and closes it. */
    final NativeBuffer memory;
    final long address;
    final int bytes;

    private ShmSegment(Path path, int number, NativeBuffer memory) {
        this.path = path;
        this.number = number;
        this.memory = memory;
        this.address = memory.address();
        this.bytes = memory.capacity();
    }

    static Path path(String name, int number) {
        return ShmDirectory.ROOT.resolve(ShmDirectory.PREFIX + name + "@" + number + SUFFIX);
    }

    /**
     * Creates segment {@code number} of NIC {@code name}: a file of this process, mapped shared over
     * fresh page-aligned memory of {@code bytes}, which the caller owns as any {@link NativeBuffer}
     * (closing it unmaps the file's pages; the file itself goes with {@link #remove}).
     */
    static ShmSegment create(String name, int number, int bytes, ProcessIdentity self) {
        Path path = path(name, number);
        long mapped = NativeMemory.roundUpToPage(bytes);
        NativeBuffer memory = NativeMemory.allocate(bytes);
        try {
            Files.deleteIfExists(path); // a stale one of a dead process that held this name
            Files.createFile(path, PosixFilePermissions.asFileAttribute(ShmRegion.OWNER_ONLY));
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(DATA_OFFSET + mapped);
                ByteBuffer head = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(MAGIC_OFFSET, MAGIC).putInt(PID_OFFSET, self.pid()).putInt(BYTES_OFFSET, bytes)
                        .putLong(START_TIME_OFFSET, self.startTime());
                file.getChannel().write(head, 0);
            }
            int fd = Libc.binding().open(path.toString(), O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                throw new ShmException("cannot open the shm segment " + path + " to map it: errno " + Libc.lastErrno()
                        + "; is /dev/shm a writable tmpfs?");
            }
            try {
                long at = Libc.binding().mmap(memory.address(), mapped, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_SHARED | MAP_FIXED, fd, DATA_OFFSET);
                if (at != memory.address()) {
                    throw new ShmException("cannot map the shm segment " + path + " (" + mapped + " bytes): errno "
                            + Libc.lastErrno() + "; is /dev/shm full? (df /dev/shm)");
                }
            } finally {
                Libc.binding().close(fd);
            }
            return new ShmSegment(path, number, memory);
        } catch (IOException e) {
            memory.close();
            ShmDirectory.delete(path);
            throw new ShmException("cannot create the shm segment " + path + ": " + e + "; is /dev/shm a writable tmpfs"
                    + " with room for " + mapped + " bytes?");
        } catch (RuntimeException e) {
            memory.close();
            ShmDirectory.delete(path);
            throw e;
        }
    }

    /** Whether [address, address + length) lies inside this segment's bytes. */
    boolean holds(long start, int length) {
        return start >= address && length >= 0 && start - address <= bytes - (long) length;
    }

    /** The segment of {@code shared} holding [start, start + length), or null. */
    static ShmSegment holding(ShmSegment[] shared, long start, int length) {
        for (ShmSegment s : shared) {
            if (s.holds(start, length)) {
                return s;
            }
        }
        return null;
    }

    /** Removes the file; the mappings stay valid until each process drops its own. */
    void remove() {
        ShmDirectory.delete(path);
    }

    /**
     * Peer {@code peerName}'s segment {@code number}, mapped read-only here; null if there is none
     * that peer's process {@code peer} shared: no such file, not this user's or not mode 0600, a
     * header that is not a segment's, or one another process wrote.
     */
    static ByteBuffer mapPeer(String peerName, int number, ProcessIdentity peer) {
        if (number <= 0 || number > MAX_NUMBER || peer.pid() <= 0) {
            return null;
        }
        Path path = path(peerName, number);
        try {
            ShmRegion.checkOwnership(path);
            try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
                ByteBuffer head = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
                file.read(head, 0);
                int bytes = head.getInt(BYTES_OFFSET);
                if (head.position() != HEADER_LENGTH || head.getLong(MAGIC_OFFSET) != MAGIC
                        || head.getInt(PID_OFFSET) != peer.pid() || head.getLong(START_TIME_OFFSET) != peer.startTime()
                        || bytes <= 0 || file.size() < DATA_OFFSET + (long) bytes) {
                    return null;
                }
                return file.map(FileChannel.MapMode.READ_ONLY, DATA_OFFSET, bytes).order(ByteOrder.LITTLE_ENDIAN);
            }
        } catch (IOException | ShmException e) {
            return null; // gone (NoSuchFileException), unreadable, or not this user's 0600 file
        }
    }

    /** The process that owns a segment file, or {@link ProcessIdentity#NONE} if it cannot be read or is not one. */
    static ProcessIdentity owner(Path path) {
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            file.read(head, 0);
            return head.position() == HEADER_LENGTH && head.getLong(MAGIC_OFFSET) == MAGIC
                    ? new ProcessIdentity(head.getInt(PID_OFFSET), head.getLong(START_TIME_OFFSET)) : ProcessIdentity.NONE;
        } catch (IOException e) {
            return ProcessIdentity.NONE;
        }
    }

    /** Removes the segment files of NIC {@code name} whose owning process is gone; returns how many went. */
    static int removeDead(String name) {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(ShmDirectory.ROOT, ShmDirectory.PREFIX + name + "@*" + SUFFIX)) {
            for (Path p : files) {
                removed += removeIfDead(p);
            }
        } catch (IOException e) {
            // /dev/shm unreadable: the stale check of the next open removes them
        }
        return removed;
    }

    /** Removes one segment file (of this user, mode 0600) if its owner's process is gone. */
    static int removeIfDead(Path p) {
        try {
            if (!ShmRegion.checkOwnershipIfPresent(p)) {
                return 0;
            }
        } catch (ShmException e) {
            return 0; // another user's, or not a unetmm file: not ours to remove
        }
        ProcessIdentity owner = owner(p);
        return owner.pid() > 0 && !owner.alive() ? ShmDirectory.delete(p) : 0;
    }
}
