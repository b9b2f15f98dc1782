package org.unetmm.nic.shm;

/**
 * Why the shm wire dropped something a peer wrote into the region before the NIC saw it, or why a
 * rendezvous read failed. Counted per reason in {@link ShmStats}. A process of the same user can
 * write anything into a region, so every record is checked; nothing that fails a check is written
 * anywhere.
 */
public enum ShmDropReason {
    /**
     * What stands at the consumer's head is no published record although the producer's stored tail
     * is past it (written out of order, or a record before it said a length shorter than it was):
     * skipped to that tail.
     */
    BAD_RING,
    /** A record length that is too short or runs past the end of the ring: skipped to the producer's stored tail. */
    BAD_RECORD_LENGTH,
    /** A record kind other than padding, inline or rendezvous. */
    BAD_KIND,
    /** A frame type, flag, tag or connection id the SPI does not define. */
    BAD_HEADER,
    /** Lengths and offsets that do not fit: a fragment outside its message, or a record whose size is not its payload's. */
    BAD_LENGTHS,
    /** A rendezvous that names a pid other than the peer's. */
    WRONG_PID,
    /** A rendezvous whose (address, length) pieces are empty, too many, overflow, leave user space or do not sum to the fragment. */
    BAD_PIECES,
    /** A completion naming no rendezvous this side has outstanding (forged, or late after a flush failed it). */
    UNKNOWN_COMPLETION,
    /** process_vm_readv: EFAULT, the peer's address range is not mapped in its process (or a short read). */
    READ_FAULT,
    /** process_vm_readv: ESRCH, the peer's process is gone. */
    READ_NO_PROCESS,
    /** process_vm_readv: EPERM, the kernel refuses cross-memory attach to the peer (Yama, another user, seccomp). */
    READ_PERMISSION,
    /** process_vm_readv failed with another errno (EINVAL, ENOMEM, ENOSYS). */
    READ_OTHER,
    /**
     * A segment frame naming a segment the peer has not shared: no such file, not this user's
     * 0600 file, or one whose header names another process than the peer's.
     */
    UNKNOWN_SEGMENT,
    /**
     * A segment frame naming a segment the peer shared whose memory this process cannot open as
     * {@code /proc/<pid>/fd/<fd>} (a {@code hidepid} mount of /proc, another pid namespace, a peer
     * that is not dumpable) or that is not sealed against shrinking: run both processes as one
     * user in one pid namespace, or use the pinned path.
     */
    SEGMENT_UNREACHABLE,
    /** A segment frame whose (offset, length) does not lie inside the segment it names. */
    OUTSIDE_SEGMENT
}
