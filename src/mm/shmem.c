// SPDX-License-Identifier: MIT
/*
 * Shared anonymous memory (the kernel's mm/shmem.c, as far as mappings
 * care): MAP_SHARED|MAP_ANONYMOUS gets a fresh shmem file the size of the
 * mapping ("/dev/zero (deleted)" in /proc/PID/maps).  VMAs of the file hold
 * references to it; an access past its size is SIGBUS.
 */
#include <stdlib.h>

#include "mm/internal.h"

#define FMODE_READ	0x1
#define FMODE_WRITE	0x2

static atomic_long shmem_file_count;
static atomic_ulong shmem_next_ino = 1;

/* Number of shmem files alive, for leak checks in tests. */
long shmem_live_files(void)
{
	return atomic_load(&shmem_file_count);
}

/* An unlinked shmem file of size bytes, with one reference. */
struct file *shmem_file_setup(const char *name, unsigned long size)
{
	struct file *file = calloc(1, sizeof(*file));

	if (!file)
		return NULL;
	atomic_init(&file->f_count, 1);
	file->i_size = size;
	file->f_mode = FMODE_READ | FMODE_WRITE;
	file->name = name;
	file->ino = atomic_fetch_add(&shmem_next_ino, 1);
	atomic_fetch_add(&shmem_file_count, 1);
	return file;
}

struct file *get_file(struct file *file)
{
	atomic_fetch_add(&file->f_count, 1);
	return file;
}

void fput(struct file *file)
{
	if (atomic_fetch_sub(&file->f_count, 1) == 1) {
		atomic_fetch_sub(&shmem_file_count, 1);
		free(file);
	}
}

const struct vm_operations_struct shmem_anon_vm_ops = {
	.name = "shmem",
};

/*
 * Back a new shared anonymous VMA with its own shmem file.  The caller
 * holds the mmap lock for writing; vma is not linked yet.
 */
int shmem_zero_setup(struct vm_area_struct *vma)
{
	struct file *file;

	file = shmem_file_setup("dev/zero", vma->vm_end - vma->vm_start);
	if (!file)
		return -ENOMEM;
	if (vma->vm_file)
		fput(vma->vm_file);
	vma->vm_file = file;
	vma->vm_ops = &shmem_anon_vm_ops;
	return 0;
}
