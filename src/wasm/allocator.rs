//! The `.wasm`'s memory allocator: power-of-two size classes, each with a free list, carved
//! from pages the module grows its memory by. It replaces the standard library's dlmalloc,
//! which costs the module some 8 KB, for an allocation pattern this small: a few short-lived
//! buffers per verification (the token's decoded parts) and the keyset, replaced now and then.
//!
//! Every operation is O(1). A freed block is reused by its class only, and memory is never
//! returned (a wasm memory cannot shrink), so the footprint is the peak of each class: about
//! twice the bytes live at the worst moment. wasm32-unknown-unknown has one thread, so the state
//! is not locked.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;

const PAGE: usize = 64 * 1024;
/// Blocks of 8 bytes (room for the free list's link) up to 2^31.
const MIN_CLASS: usize = 3;
const CLASSES: usize = 32;

/// The heap's state: a free list per class and the unused rest of the last pages grown.
pub struct Heap {
    free: [usize; CLASSES],
    bump: usize,
    end: usize,
}

/// The class of a layout: blocks of `1 << class` bytes, aligned to their size up to a page.
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > PAGE {
        return None;
    }
    let size = layout
        .size()
        .max(layout.align())
        .checked_next_power_of_two()?;
    Some((size.trailing_zeros() as usize).max(MIN_CLASS))
}

impl Heap {
    pub const fn new() -> Heap {
        Heap {
            free: [0; CLASSES],
            bump: 0,
            end: 0,
        }
    }

    /// A block of `class`, or 0. `grow(pages)` adds pages to the memory and answers the address
    /// where they start, `None` when the memory cannot grow.
    ///
    /// # Safety
    /// Freed blocks are read as free-list links: only blocks this heap handed out may be freed.
    pub unsafe fn alloc(&mut self, class: usize, grow: impl Fn(usize) -> Option<usize>) -> usize {
        let head = self.free[class];
        if head != 0 {
            self.free[class] = (head as *const usize).read();
            return head;
        }
        let size = 1usize << class;
        let align = size.min(PAGE);
        let mut start = (self.bump + align - 1) & !(align - 1);
        if start.checked_add(size).is_none_or(|end| end > self.end) {
            let Some(needed) = (start - self.bump).checked_add(size) else {
                return 0;
            };
            let pages = needed.div_ceil(PAGE);
            let Some(at) = grow(pages) else {
                return 0;
            };
            let Some(end) = pages
                .checked_mul(PAGE)
                .and_then(|bytes| at.checked_add(bytes))
            else {
                return 0;
            };
            if at != self.end {
                // Not contiguous (never expected: nothing else grows the memory): start over.
                self.bump = at;
            }
            self.end = end;
            start = (self.bump + align - 1) & !(align - 1);
        }
        // The alignment gap becomes blocks of smaller classes instead of being lost.
        let mut gap = self.bump;
        while gap < start {
            let class = (gap.trailing_zeros() as usize).min((start - gap).ilog2() as usize);
            if class >= MIN_CLASS {
                self.release(gap, class);
            }
            gap += 1 << class;
        }
        self.bump = start + size;
        start
    }

    /// # Safety
    /// `block` was handed out by [`Heap::alloc`] for `class` and is not used any more.
    pub unsafe fn release(&mut self, block: usize, class: usize) {
        (block as *mut usize).write(self.free[class]);
        self.free[class] = block;
    }
}

/// The global allocator of the wasm build.
pub struct SizeClasses(UnsafeCell<Heap>);

// One thread on wasm32-unknown-unknown: nothing shares the heap.
unsafe impl Sync for SizeClasses {}

#[global_allocator]
static ALLOCATOR: SizeClasses = SizeClasses(UnsafeCell::new(Heap::new()));

fn grow(pages: usize) -> Option<usize> {
    let previous = core::arch::wasm32::memory_grow(0, pages);
    (previous != usize::MAX).then(|| previous * PAGE)
}

unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            Some(class) => (*self.0.get()).alloc(class, grow) as *mut u8,
            None => std::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(class) = class_of(layout) {
            (*self.0.get()).release(ptr as usize, class);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = Layout::from_size_align_unchecked(new_size, layout.align());
        if class_of(new) == class_of(layout) {
            return ptr;
        }
        let moved = self.alloc(new);
        if !moved.is_null() {
            std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        moved
    }
}
