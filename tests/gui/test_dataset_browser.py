"""The dataset browser: images under their classes with cell counts, problems,
and the synthetic sample's mark."""

from __future__ import annotations

from PySide6.QtCore import Qt

from cervix_gui.dataset_browser import CLASS_NAME_ROLE, IMAGE_KEY_ROLE


def _class_rows(browser):
    tree = browser.tree
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def test_every_image_is_listed_under_its_class_with_cell_counts(
    window, open_in, small_dataset, small_layout
):
    assert open_in(small_dataset)

    rows = {row.data(0, CLASS_NAME_ROLE): row for row in _class_rows(window.browser)}
    assert set(rows) == {"parabasal", "metaplastic", "koilocytotic"}
    # The scheme's order: normal before benign before abnormal.
    assert list(rows) == ["parabasal", "metaplastic", "koilocytotic"]
    for folder, images in small_layout.items():
        class_name = folder.removeprefix("im_").lower()
        row = rows[class_name]
        assert row.text(1) == str(sum(len(cells) for cells in images.values()))
        assert row.text(0) == folder.removeprefix("im_")
        assert f"{len(images)} image" in row.toolTip(0)
        children = {
            row.child(i).data(0, IMAGE_KEY_ROLE): row.child(i)
            for i in range(row.childCount())
        }
        assert set(children) == {f"{folder}/{stem}" for stem in images}
        for stem, cells in images.items():
            child = children[f"{folder}/{stem}"]
            assert child.text(0) == stem
            assert child.text(1) == str(len(cells))
    assert "5 images, 9 cells, 3 classes" in window.browser.summary.text()


def test_class_rows_cannot_be_selected_only_images(window, open_in, small_dataset):
    open_in(small_dataset)
    for row in _class_rows(window.browser):
        assert not row.flags() & Qt.ItemFlag.ItemIsSelectable
        assert row.child(0).flags() & Qt.ItemFlag.ItemIsSelectable


def test_problems_are_counted_and_listed_with_their_file(
    window, open_in, small_dataset
):
    bad = small_dataset / "im_Parabasal" / "im_Parabasal" / "001_cyt04.dat"
    bad.write_text("10,10\nnot a vertex\n")
    open_in(small_dataset)

    problems = window.browser.problems
    assert not problems.isHidden()
    assert problems.count() == 1
    assert "1 problem" in problems.heading.text()
    row = problems.list.item(0).text()
    assert "001_cyt04.dat" in row
    assert ":2" in row  # the faulty line
    assert window.status.currentMessage().startswith("1 problem found")
    # The three good cells of that image are still listed.
    assert window.browser._items["im_Parabasal/001"].text(1) == "3"


def test_problem_list_hidden_without_problems(window, open_in, small_dataset):
    open_in(small_dataset)
    assert window.browser.problems.isHidden()


def test_synthetic_sample_is_marked_in_title_and_browser(
    window, open_in, synthetic_dataset
):
    open_in(synthetic_dataset)

    assert window.windowTitle().endswith("\u2014 synthetic sample")
    banner = window.browser.synthetic_banner
    assert not banner.isHidden() and banner.isVisible()
    assert "not cells of a patient" in banner.text()
    assert "(synthetic)" in window.status.dataset_label.text()


def test_real_dataset_has_no_synthetic_mark(window, open_in, small_dataset):
    open_in(small_dataset)

    assert "synthetic" not in window.windowTitle()
    assert window.browser.synthetic_banner.isHidden()
    assert "synthetic" not in window.status.dataset_label.text()


def test_isolated_cells_are_grouped_and_not_counted_twice(
    window, open_in, drawn, cropped_dataset
):
    open_in(cropped_dataset)

    rows = {row.data(0, CLASS_NAME_ROLE): row for row in _class_rows(window.browser)}
    parabasal = rows["parabasal"]
    # Its two cluster images hold four cells; the three crops are the same cells.
    assert parabasal.text(1) == "4"
    group = parabasal.child(parabasal.childCount() - 1)
    assert group.text(0) == "Isolated cells"
    assert group.text(1) == "3"
    assert not group.isExpanded()
    assert [group.child(i).text(0) for i in range(group.childCount())] == [
        "001_01",
        "001_02",
        "001_03",
    ]
    assert "5 images, 9 cells, 3 classes" in window.browser.summary.text()
    assert "3 isolated cells" in window.browser.summary.text()

    window.browser.select_image("im_Parabasal/CROPPED/001_02")
    assert window.viewer.record.key == "im_Parabasal/CROPPED/001_02"
    assert len(drawn(window)) == 1


def test_a_dataset_without_images_says_so(window, open_in, tmp_path):
    (tmp_path / "empty" / "im_Parabasal").mkdir(parents=True)

    assert open_in(tmp_path / "empty")

    assert window.browser.image_keys() == []
    assert window.viewer.record is None
    assert window.status.currentMessage() == "This dataset has no images to show."


def test_images_with_unsaved_edits_and_fully_reviewed_images_are_marked(
    window, open_in, small_dataset
):
    from engine.annotations import ReviewState

    open_in(small_dataset)
    dataset = window.dataset
    assert window.browser.mark("im_Parabasal/001") == ""

    for cell in dataset.image("im_Parabasal/002").cells:
        cell.review_state = ReviewState.ACCEPTED
    dataset.save(dataset.image("im_Parabasal/002"))
    edited = dataset.image("im_Koilocytotic/001").cells[0]
    edited.cytoplasm = edited.cytoplasm * 1.01
    window.browser.refresh_marks()

    assert window.browser.mark("im_Parabasal/002") == "\u2713"
    assert window.browser.mark("im_Koilocytotic/001") == "\u25cf"
    assert window.browser.mark("im_Parabasal/001") == ""


def test_several_images_can_be_selected_and_showing_one_keeps_the_others(
    window, open_in, small_dataset, qtbot
):
    open_in(small_dataset)
    browser = window.browser
    assert browser.selected_keys() == [browser.current_key()]

    first = browser._items["im_Parabasal/002"]
    second = browser._items["im_Koilocytotic/001"]
    viewport = browser.tree.viewport()
    qtbot.mouseClick(
        viewport,
        Qt.MouseButton.LeftButton,
        pos=browser.tree.visualItemRect(first).center(),
    )
    qtbot.mouseClick(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        browser.tree.visualItemRect(second).center(),
    )
    assert browser.selected_keys() == ["im_Parabasal/002", "im_Koilocytotic/001"]
    # What another dock reads from the tree itself stays the same keys.
    assert {i.data(0, IMAGE_KEY_ROLE) for i in browser.tree.selectedItems()} == set(
        browser.selected_keys()
    )

    window.show_image("im_Parabasal/002")
    assert window.current_record().key == "im_Parabasal/002"
    assert browser.selected_keys() == ["im_Parabasal/002", "im_Koilocytotic/001"]
